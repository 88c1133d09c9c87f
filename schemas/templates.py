"""``wa.templates``: one change of a message template (status, category, quality),
as Meta's template webhooks report it (or as ``wastream templates sync`` read it).

Key = ``<name>:<language>:<kind>`` (the topic is compacted: the latest of each kind of
change of each template stays). Written by the conversation agent from the
``message_template_*`` / ``template_category_update`` events of ``wa.inbound``
(:func:`from_event`); read whole by every worker's sender (a template that is not
APPROVED is not sent, ``streams.delivery.templates``) and by the ``message_templates``
projection.

References: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
(and template_category_update, message_template_quality_update).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.envelope import InboundEvent
from schemas.meta.templates import TEMPLATE_FIELDS, TemplateUpdate
from schemas.record import Record

#: Meta's field → our kind of change.
KINDS = {
    "message_template_status_update": "status",
    "template_category_update": "category",
    "message_template_quality_update": "quality",
    "message_template_components_update": "components",
}
APPROVED = "APPROVED"


@dataclass(frozen=True, slots=True)
class TemplateChange(Record):
    """``status`` (upper case, as Meta: APPROVED, PENDING, REJECTED, PAUSED, DISABLED …)
    is set by a status change, ``category`` by a category change, ``quality`` (GREEN,
    YELLOW, RED, UNKNOWN) by a quality change; the others are None. ``meta_ts``:
    Meta's time of the change (the webhook entry's ``time``), seconds."""

    name: str
    language: str
    kind: str
    event_id: str
    status: str | None = None
    category: str | None = None
    quality: str | None = None
    reason: str | None = None
    template_id: str | None = None
    waba_id: str | None = None
    meta_ts: int | None = None
    at: str = ""
    source: str = "webhook"  # or "sync" (read from the account's template list)
    correlation_id: str = ""

    @property
    def key(self) -> bytes:
        return f"{self.name}:{self.language}:{self.kind}".encode()


def _upper(v: Any) -> str | None:
    return v.upper() if isinstance(v, str) and v else None


def from_event(ev: InboundEvent) -> TemplateChange | None:
    """The change a template webhook reports; None for any other event, or one that
    names no template and language."""
    if ev.field not in TEMPLATE_FIELDS:
        return None
    upd = TemplateUpdate.from_dict(ev.payload)
    if not upd.name or not upd.language:
        return None
    p = ev.payload
    kind = KINDS[ev.field]
    status = _upper(p.get("event")) if kind == "status" else None
    if kind == "status" and status is None:
        return None
    reason = p.get("reason")
    info = p.get("rejection_info") or p.get("other_info")
    if isinstance(info, dict) and isinstance(info.get("reason") or info.get("description"), str):
        reason = f"{reason or ''}: {info.get('reason') or info.get('description')}".lstrip(": ")
    return TemplateChange(
        name=upd.name, language=upd.language, kind=kind, event_id=ev.event_id, status=status,
        category=_upper(p.get("new_category")) if kind == "category" else None,
        quality=_upper(p.get("new_quality_score")) if kind == "quality" else None,
        reason=str(reason)[:500] if reason not in (None, "", "NONE") else None,
        template_id=upd.template_id, waba_id=ev.waba_id, meta_ts=ev.timestamp,
        at=ev.received_at, correlation_id=ev.correlation_id)
