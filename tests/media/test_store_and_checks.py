"""The media store (its contract on both backends: a local directory, and an S3 bucket
of a local S3 server) and the checks of a download against its webhook."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from streams.media import limits
from streams.media.limits import Declared
from streams.media.store import LocalStore, MediaStore, StoreError, key_of
from tests.support.s3 import s3_server


def declared(data: bytes, kind: str = "image", mime: str = "image/jpeg", *,
             b64: bool = True, animated: bool = False) -> Declared:
    raw = hashlib.sha256(data).digest()
    sha = base64.b64encode(raw).decode() if b64 else raw.hex()
    return Declared(kind, "1003383421387256", mime, sha, animated)


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStore]:
    """The store's contract holds for both backends: a directory, an S3 bucket."""
    if request.param == "local":
        yield LocalStore(tmp_path)
        return
    with s3_server() as server:
        s3 = server.store()
        try:
            yield s3
        finally:
            await s3.close()


async def test_store_names_objects_by_sha256_and_reads_them_back(store: MediaStore) -> None:
    key = await store.put(b"a photo", "image/jpeg")
    assert key == hashlib.sha256(b"a photo").hexdigest()
    assert await store.get(key) == b"a photo"
    assert await store.exists(key)
    assert await store.mime_type(key) == "image/jpeg"
    assert await store.put(b"a photo", "image/jpeg") == key  # idempotent
    assert await store.get(key) == b"a photo"
    assert await store.get(key_of(b"other")) is None
    assert not await store.exists(key_of(b"other"))
    assert await store.mime_type(key_of(b"other")) is None


async def test_store_refuses_keys_that_are_not_digests(store: MediaStore) -> None:
    for bad in ("../../etc/passwd", "A" * 64, key_of(b"x")[:63]):
        with pytest.raises(StoreError):
            await store.get(bad)
        with pytest.raises(StoreError):
            await store.exists(bad)


async def test_local_store_shards_by_key_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    key = await store.put(b"a photo", "image/jpeg")
    assert store.path(key) == tmp_path / key[:2] / key
    assert (tmp_path / key[:2] / key).read_bytes() == b"a photo"
    assert [p.name for p in (tmp_path / key[:2]).iterdir() if p.name.endswith(".tmp")] == []


def test_meta_limits_per_type() -> None:
    assert limits.max_bytes("image") == 5 * 1024 * 1024
    assert limits.max_bytes("audio") == limits.max_bytes("video") == 16 * 1024 * 1024
    assert limits.max_bytes("document") == 100 * 1024 * 1024
    assert limits.max_bytes("sticker") == 100 * 1024
    assert limits.max_bytes("sticker", animated=True) == 500 * 1024
    image = declared(b"x")
    assert limits.too_large(image, 5 * 1024 * 1024 + 1)
    assert not limits.too_large(image, 5 * 1024 * 1024)
    assert not limits.too_large(image, None)  # unknown: the download enforces it


def test_sha_and_mime_checks() -> None:
    data = b"\xff\xd8 a jpeg"
    assert limits.mismatch(declared(data), data, "image/jpeg") is None
    assert limits.mismatch(declared(data, b64=False), data, "image/jpeg") is None  # hex
    assert limits.mismatch(declared(data), data, None) is None  # nothing served to compare
    assert "sha256" in (limits.mismatch(declared(data), data + b"!", "image/jpeg") or "")
    assert "mime" in (limits.mismatch(declared(data), data, "image/png") or "")
    audio = declared(data, "audio", "audio/ogg; codecs=opus")
    assert limits.mismatch(audio, data, "audio/ogg") is None
    unreadable = Declared("image", "1", "image/jpeg", "not a digest")
    assert limits.mismatch(unreadable, data, "image/jpeg") is not None


def test_declared_from_real_webhook_messages() -> None:
    msg = {"type": "sticker", "sticker": {"mime_type": "image/webp", "id": "123",
                                          "sha256": "OmT4nhjUhCMIPNmj7eeOZeCYjTXkLxoOv85OMCFwSuc=",
                                          "animated": True}}
    d = Declared.from_message(msg)
    assert d is not None
    assert (d.kind, d.animated, d.limit) == ("sticker", True, 500 * 1024)
    assert limits.digest(d.sha256) is not None
    assert Declared.from_message({"type": "text", "text": {"body": "hi"}}) is None
    assert Declared.from_message({"type": "image", "image": {"caption": "no id"}}) is None
