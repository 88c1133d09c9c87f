"""``wa.media``: what became of one inbound media object. Key = the sender's wa_id.

Written by the media agent (``streams.media``), one record per download attempt that
ended: ``stored`` (checked and in the store under ``store_key``), ``too_large`` (over
Meta's limit for its type; not downloaded, or stopped), ``mismatch`` (the bytes' sha256
or mime type is not what the webhook said; not stored), ``failed`` (dead-lettered after
the retry tiers, or refused for good by the Graph API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.record import Record

STATUSES = ("stored", "too_large", "mismatch", "failed")


@dataclass(frozen=True, slots=True)
class MediaOutcome(Record):
    wa_id: str
    media_id: str
    status: str
    kind: str = ""  # the message type: image, document, audio, video, sticker
    event_id: str = ""  # the inbound message's id
    mime_type: str = ""  # as declared by the webhook
    sha256: str | None = None  # hex of the stored bytes (stored), else as declared
    size: int | None = None  # bytes stored, or the size Meta declared / we saw
    store_key: str | None = None  # the store's key (= sha256) when stored
    error: dict[str, Any] | None = None
    at: str = ""
    correlation_id: str = ""
