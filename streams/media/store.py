"""The content-addressed media store: every object is named by the sha256 of its bytes.

A name says what the bytes are, so writing the same object twice is harmless (a retried
download, two users sending the same photo), an object never changes once written, and
a reader can check what it got. :class:`MediaStore` is the interface; :class:`LocalStore`
keeps objects in a directory (``WASTREAM_MEDIA_DIR``), sharded by the first two hex
digits, each written to a temporary file in the same directory and renamed into place,
so a reader never sees half an object. An S3-compatible bucket would implement the same
four methods: :class:`streams.media.s3.S3Store` (``WASTREAM_MEDIA_STORE=s3``).
:func:`from_settings` opens the configured one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from wastream.config import Settings

KEY = re.compile(r"^[0-9a-f]{64}$")


class StoreError(ValueError):
    """A key that is not a sha256 hex digest, or bytes that do not match their key."""

    transient = False


def key_of(data: bytes) -> str:
    """The key of some bytes: their sha256, lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def check_key(key: str) -> str:
    """``key`` when it is a sha256 hex digest, else :class:`StoreError`."""
    if not KEY.match(key):
        raise StoreError(f"not a media key (sha256 hex): {key[:80]!r}")
    return key


class MediaStore(Protocol):
    """Where media bytes live, by key. Every method is safe to repeat."""

    async def put(self, data: bytes, mime_type: str) -> str:
        """Store ``data`` (once) and return its key."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, None when the store does not hold it."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def mime_type(self, key: str) -> str | None:
        """The mime type it was stored with (None when unknown or absent)."""
        ...

    async def close(self) -> None:
        """Release connections (the app is stopping)."""
        ...


class LocalStore:
    """A :class:`MediaStore` in a local directory: ``<root>/<k[:2]>/<k>`` and, beside
    it, ``<k>.type`` with the mime type. File I/O runs in a thread."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalStore:
        return cls(settings.media.store_dir(settings.dev.home))

    def path(self, key: str) -> Path:
        key = check_key(key)
        return self.root / key[:2] / key

    async def put(self, data: bytes, mime_type: str) -> str:
        key = key_of(data)
        await asyncio.to_thread(self._write, key, data, mime_type)
        return key

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self.path(key))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).exists)

    async def mime_type(self, key: str) -> str | None:
        raw = await asyncio.to_thread(self._read, self.path(key).with_suffix(".type"))
        return raw.decode() if raw else None

    async def close(self) -> None:
        return None

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def _write(self, key: str, data: bytes, mime_type: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The type first: an object that exists always has its type beside it.
        _atomic_write(path.with_suffix(".type"), mime_type.encode())
        if not path.exists():
            _atomic_write(path, data)


def from_settings(settings: Settings) -> MediaStore:
    """The store ``WASTREAM_MEDIA_STORE`` names: the local directory, or the bucket."""
    if settings.media.store == "s3":
        from streams.media.s3 import S3Store

        return S3Store.from_settings(settings)
    return LocalStore.from_settings(settings)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, rename over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
