"""Message template webhook fields: one update per change, payload = the change's ``value``.

Reference: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
(and template_category_update, message_template_quality_update,
message_template_components_update).

Event types: ``message_template_status_update.<event>`` (approved, rejected, paused,
disabled, pending_deletion, flagged, reinstated …), ``template_category_update``,
``message_template_quality_update``, ``message_template_components_update``. Key: the
WABA id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.meta.common import ident

TEMPLATE_FIELDS = frozenset({
    "message_template_status_update",
    "template_category_update",
    "message_template_quality_update",
    "message_template_components_update",
})


@dataclass(frozen=True, slots=True)
class TemplateUpdate:
    """The fields every template update shares; ``raw`` is verbatim."""

    template_id: str | None
    name: str | None
    language: str | None
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TemplateUpdate:
        name, lang = d.get("message_template_name"), d.get("message_template_language")
        return cls(template_id=ident(d.get("message_template_id")),
                   name=name if isinstance(name, str) else None,
                   language=lang if isinstance(lang, str) else None, raw=d)
