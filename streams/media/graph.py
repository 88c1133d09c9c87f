"""The client of Meta's media endpoints (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media).

- ``GET /{version}/{media-id}`` → ``{url, mime_type, sha256, file_size, id}``; the URL
  expires after a few minutes, so each download asks for it again;
- ``GET {url}`` with the bearer token → the bytes (read in chunks, stopped as soon as
  they pass the caller's limit);
- ``POST /{version}/{phone-number-id}/media`` (multipart: ``messaging_product``,
  ``type``, ``file``) → ``{id}``.

Failures are raised as classified :class:`~streams.failure.errors.GraphError` (Meta's code,
else the HTTP status; timeouts and connection errors transient), as the sender's are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from streams.failure.errors import GraphTransient, graph_error, media_id, phone_number_id
from wastream.config import Settings


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """Meta's answer to ``GET /{media-id}``."""

    media_id: str
    url: str
    mime_type: str
    sha256: str | None
    file_size: int | None


class TooLarge(Exception):
    """The bytes passed the limit while downloading (Meta's file_size was absent or wrong)."""

    def __init__(self, seen: int) -> None:
        super().__init__(f"more than {seen} bytes")
        self.seen = seen


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class MediaClient:
    """One pooled aiohttp session for the media endpoints."""

    def __init__(self, base_url: str, version: str, token: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaClient | None:
        """None when no Graph URL or token is configured (nothing to download from)."""
        meta = settings.meta
        if not (meta.graph_url and meta.access_token):
            return None
        return cls(meta.graph_url, meta.graph_api_version, meta.access_token.get_secret_value(),
                   settings.media.timeout_s)

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def info(self, mid: str) -> MediaInfo:
        data = await self._json("GET", f"{self.base_url}/{self.version}/{media_id(mid)}")
        url = data.get("url")
        if not isinstance(url, str) or not url:
            raise GraphTransient("media info without a url")
        sha = data.get("sha256")
        return MediaInfo(str(data.get("id") or mid), url, str(data.get("mime_type") or ""),
                         sha if isinstance(sha, str) else None, _int(data.get("file_size")))

    async def download(self, url: str, limit: int) -> tuple[bytes, str | None]:
        """The bytes at ``url`` and the served content type; :class:`TooLarge` as soon
        as more than ``limit`` bytes arrive."""
        try:
            async with self._open().get(url, headers=self._auth) as resp:
                if resp.status >= 300:
                    raise graph_error(resp.status, _loads(await resp.read()))
                size = _int(resp.headers.get("Content-Length"))
                if size is not None and size > limit:
                    raise TooLarge(size)
                chunks: list[bytes] = []
                seen = 0
                async for chunk in resp.content.iter_chunked(1 << 16):
                    seen += len(chunk)
                    if seen > limit:
                        raise TooLarge(seen)
                    chunks.append(chunk)
                return b"".join(chunks), resp.headers.get("Content-Type")
        except TimeoutError as exc:
            raise GraphTransient(f"media download timeout: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise GraphTransient(f"media download failed: {exc!r}") from exc

    async def upload(self, pnid: str, data: bytes, mime_type: str, filename: str) -> str:
        """Upload an object; Meta's media id for it."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename, content_type=mime_type)
        answer = await self._json(
            "POST", f"{self.base_url}/{self.version}/{phone_number_id(pnid)}/media", data=form)
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise GraphTransient("media upload answered without an id")
        return media_id

    async def _json(self, method: str, url: str, data: Any = None) -> dict[str, Any]:
        try:
            async with self._open().request(method, url, data=data, headers=self._auth) as resp:
                raw, status = await resp.read(), resp.status
        except TimeoutError as exc:
            raise GraphTransient(f"Graph API timeout: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise GraphTransient(f"Graph API unreachable: {exc!r}") from exc
        body = _loads(raw)
        if status >= 300:
            raise graph_error(status, body)
        return body

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _loads(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
