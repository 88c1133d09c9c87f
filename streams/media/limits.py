"""What Meta allows for each media type, and the checks of a downloaded object against
what the webhook said about it. Pure functions, no I/O.

Sizes and types from Meta's "Supported media types"
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types):
audio 16 MB, document 100 MB, image 5 MB, sticker 100 KB (animated 500 KB), video 16 MB.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024
KB = 1024

#: The message types whose object is a media object (``{id, mime_type, sha256}``).
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")

MAX_BYTES: dict[str, int] = {
    "audio": 16 * MB, "document": 100 * MB, "image": 5 * MB, "sticker": 100 * KB,
    "video": 16 * MB,
}
ANIMATED_STICKER_MAX = 500 * KB

#: The mime types Meta accepts when we send (a user may send a document of any type).
SENDABLE: dict[str, frozenset[str]] = {
    "image": frozenset({"image/jpeg", "image/png"}),
    "document": frozenset({
        "text/plain", "application/pdf", "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"}),
    "audio": frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
    "video": frozenset({"video/mp4", "video/3gpp"}),
    "sticker": frozenset({"image/webp"}),
}


def max_bytes(kind: str, *, animated: bool = False) -> int:
    """Meta's size limit of a media type (a sticker's depends on whether it is animated)."""
    if kind == "sticker" and animated:
        return ANIMATED_STICKER_MAX
    return MAX_BYTES.get(kind, MAX_BYTES["document"])


def base_mime(mime: str | None) -> str:
    """``"audio/ogg; codecs=opus"`` → ``"audio/ogg"`` (lower case; empty when absent)."""
    return (mime or "").split(";", 1)[0].strip().lower()


def sendable(kind: str, mime: str | None) -> bool:
    return base_mime(mime) in SENDABLE.get(kind, frozenset())


def digest(declared: str | None) -> bytes | None:
    """The 32 bytes a declared sha256 stands for: Meta's webhooks give it in base64,
    the media endpoint in hex; None when it is neither."""
    if not declared:
        return None
    text = declared.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_"
                               if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


@dataclass(frozen=True, slots=True)
class Declared:
    """What a webhook said about one media object (``message[type]``)."""

    kind: str
    media_id: str
    mime_type: str
    sha256: str | None
    animated: bool = False

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Declared | None:
        """The media object of an inbound message, None when it carries none."""
        kind = message.get("type")
        obj = message.get(kind) if isinstance(kind, str) and kind in MEDIA_TYPES else None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
            return None
        sha = obj.get("sha256")
        return cls(str(kind), obj["id"], str(obj.get("mime_type") or ""),
                   sha if isinstance(sha, str) else None, bool(obj.get("animated")))

    @property
    def limit(self) -> int:
        return max_bytes(self.kind, animated=self.animated)


def too_large(declared: Declared, size: int | None) -> bool:
    return size is not None and size > declared.limit


def mismatch(declared: Declared, data: bytes, served_mime: str | None) -> str | None:
    """Why ``data`` is not what the webhook announced (None when it is): its sha256
    differs, or the mime type served differs from the one declared."""
    want = digest(declared.sha256)
    if want is None:
        return "the webhook's sha256 is missing or unreadable"
    if hashlib.sha256(data).digest() != want:
        return "sha256 differs from the webhook's"
    if served_mime and declared.mime_type and base_mime(served_mime) != base_mime(
            declared.mime_type):
        return f"mime type {base_mime(served_mime)} differs from the webhook's"
    return None
