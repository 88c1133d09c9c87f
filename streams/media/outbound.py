"""Outbound media: a reply that sends an object of the store.

A domain writes the store key where Meta expects a media id::

    {"type": "image", "image": {"wastream_media": "<sha256 hex>", "caption": "…"}}

(``document`` the same, with its ``filename``). Before the POST, the sender calls
:meth:`Uploads.resolve`: the object is uploaded once per business number
(``POST /{phone-number-id}/media``), its Meta id cached (table ``media_uploads``,
migration 0009, in the ledger's database; in memory when the sender runs dry), and the
reference replaced by ``{"id": …}``. A reference marked ``wastream_if_stored`` (a
rental's photo, whose download may not have finished) that the store does not hold
raises :class:`MediaNotStored`: the sender skips that one message, never dead-letters
it. When Meta answers that the id is gone (131053, or
100 "does not exist"), :meth:`Uploads.forget` drops it and the sender re-uploads once.
"""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg

from streams.engine.messages import IF_STORED, STORED_MEDIA
from streams.failure.errors import GraphError, PermanentError
from streams.media import limits
from streams.media.graph import MediaClient
from streams.media.store import MediaStore

REF = STORED_MEDIA
GONE_CODES = frozenset({131053})


class MediaMissing(PermanentError):
    """A reply refers to an object the store does not hold, or Meta cannot take it."""


class MediaNotStored(MediaMissing):
    """An optional reference (``wastream_if_stored``) to an object the store does not
    (yet) hold: the message is skipped, not an error of the reply around it."""


def reference(body: dict[str, Any]) -> tuple[str, str] | None:
    """(message type, store key) when the body sends a stored object."""
    kind = body.get("type")
    obj = body.get(kind) if isinstance(kind, str) else None
    key = obj.get(REF) if isinstance(obj, dict) else None
    return (str(kind), key) if isinstance(key, str) else None


def media_gone(exc: BaseException) -> bool:
    return isinstance(exc, GraphError) and exc.code in GONE_CODES


class UploadCache(Protocol):
    async def get(self, key: str, phone_number_id: str) -> str | None: ...
    async def put(self, key: str, phone_number_id: str, media_id: str) -> None: ...
    async def drop(self, key: str, phone_number_id: str) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], str] = {}

    async def get(self, key: str, phone_number_id: str) -> str | None:
        return self.ids.get((key, phone_number_id))

    async def put(self, key: str, phone_number_id: str, media_id: str) -> None:
        self.ids[(key, phone_number_id)] = media_id

    async def drop(self, key: str, phone_number_id: str) -> None:
        self.ids.pop((key, phone_number_id), None)


class TableCache:
    """``media_uploads`` through a pool (the ledger's), in the ledger's schema
    (``WASTREAM_DB_SCHEMA``, where ``wastream migrate`` created it): named, since the
    pool's search path need not include it."""

    def __init__(self, pool: Any, schema: str) -> None:
        self._pool = pool  # an awaitable factory: ``ledger.pool``
        self._table = f'"{schema}".media_uploads'  # schema names are validated (settings)

    async def _conn(self) -> asyncpg.Pool:
        pool: asyncpg.Pool = await self._pool()
        return pool

    async def get(self, key: str, phone_number_id: str) -> str | None:
        got = await (await self._conn()).fetchval(
            f"SELECT media_id FROM {self._table} WHERE store_key = $1 AND "
            "phone_number_id = $2",
            key, phone_number_id)
        return str(got) if got is not None else None

    async def put(self, key: str, phone_number_id: str, media_id: str) -> None:
        await (await self._conn()).execute(
            f"INSERT INTO {self._table} (store_key, phone_number_id, media_id) "
            "VALUES ($1, $2, $3) ON CONFLICT (store_key, phone_number_id) DO UPDATE SET media_id = "
            "EXCLUDED.media_id, uploaded_at = now()", key, phone_number_id, media_id)

    async def drop(self, key: str, phone_number_id: str) -> None:
        await (await self._conn()).execute(
            f"DELETE FROM {self._table} WHERE store_key = $1 AND "
            "phone_number_id = $2",
            key, phone_number_id)


class Uploads:
    """Turns store references into Meta media ids (see the module docstring)."""

    def __init__(self, client: MediaClient | None, store: MediaStore,
                 cache: UploadCache) -> None:
        self.client = client
        self.store = store
        self.cache = cache
        self.uploaded = 0

    async def resolve(self, phone_number_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with its store reference replaced by a Meta media id (unchanged when
        it has none, or when the sender runs dry)."""
        ref = reference(body)
        if ref is None or self.client is None:
            return body
        kind, key = ref
        media_id = await self.cache.get(key, phone_number_id)
        if media_id is None:
            data = await self.store.get(key)
            if data is None and body[kind].get(IF_STORED):
                raise MediaNotStored(f"stored object {key[:12]}… is not (yet) in the store")
            mime = await self.store.mime_type(key)
            if data is None or not limits.sendable(kind, mime) or len(data) > limits.max_bytes(
                    kind):
                raise MediaMissing(f"stored object {key[:12]}… cannot be sent as {kind}")
            media_id = await self.client.upload(phone_number_id, data, mime or "",
                                                f"{key[:16]}.{(mime or '/bin').split('/')[1]}")
            self.uploaded += 1
            await self.cache.put(key, phone_number_id, media_id)
        obj = {k: v for k, v in body[kind].items() if k not in (REF, IF_STORED)}
        return {**body, kind: {**obj, "id": media_id}}

    async def forget(self, phone_number_id: str, body: dict[str, Any]) -> bool:
        """Drop the cached id of the body's stored object; False when it has none."""
        ref = reference(body)
        if ref is None:
            return False
        await self.cache.drop(ref[1], phone_number_id)
        return True
