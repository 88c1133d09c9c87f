"""Meta's value-level ``errors[]``: one ``error`` event per item, of any field.

Reference: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes

``InboundEvent.field`` says which field the error came in; ``event_id`` is a content
hash; key is the phone number id (an error has no user). The error objects are kept
verbatim: classifying Meta's codes for retries is the failure package's job
(``streams/failure/errors.py``), not the schema's.
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import InboundEvent
from schemas.meta.common import ChangeContext, items


def error_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One ``error`` event per value-level ``errors[]`` item, in order."""
    key = ctx.fallback_key()
    return [ctx.hashed("error", key, e, i) for i, e in enumerate(items(value, "errors", ctx))]
