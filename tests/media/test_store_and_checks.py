"""The media store and the checks of a download against its webhook (no servers)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from streams.media import limits
from streams.media.limits import Declared
from streams.media.store import LocalStore, StoreError, key_of


def declared(data: bytes, kind: str = "image", mime: str = "image/jpeg", *,
             b64: bool = True, animated: bool = False) -> Declared:
    raw = hashlib.sha256(data).digest()
    sha = base64.b64encode(raw).decode() if b64 else raw.hex()
    return Declared(kind, "1003383421387256", mime, sha, animated)


async def test_store_names_objects_by_sha256_and_reads_them_back(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    key = await store.put(b"a photo", "image/jpeg")
    assert key == hashlib.sha256(b"a photo").hexdigest()
    assert store.path(key) == tmp_path / key[:2] / key
    assert await store.get(key) == b"a photo"
    assert await store.exists(key)
    assert await store.mime_type(key) == "image/jpeg"
    assert await store.put(b"a photo", "image/jpeg") == key  # idempotent
    assert [p.name for p in (tmp_path / key[:2]).iterdir() if p.name.endswith(".tmp")] == []
    assert await store.get(key_of(b"other")) is None
    assert not await store.exists(key_of(b"other"))


async def test_store_refuses_keys_that_are_not_digests(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(StoreError):
        await store.get("../../etc/passwd")


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
