"""Flatten one webhook POST body into ``wa.inbound`` events, in body order.

Meta's envelope is ``object`` / ``entry[]`` / ``changes[]`` / ``{field, value}``; one
change may carry many updates (``messages[]``, ``statuses[]``, ``errors[]`` …). Every
update becomes exactly one :class:`~schemas.envelope.InboundEvent`; a change that
holds nothing we recognise — or keys we do not know beside the ones we split — is
also kept whole as an ``unknown.<field>`` event, and so is a change of a field we do
not know, so nothing Meta sends is dropped.

The only exception that leaves :func:`parse_body` / :func:`parse_bytes` is
:class:`~schemas.meta.common.MetaPayloadError` (the HTTP layer answers 400 with it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson

from schemas.envelope import InboundEvent
from schemas.meta.account import ACCOUNT_FIELDS, whole_value_type
from schemas.meta.calls import call_events, call_status_events
from schemas.meta.common import (
    ChangeContext,
    InvalidJson,
    MetaPayloadError,
    ident,
    profile_names,
    timestamp,
    token,
)
from schemas.meta.echoes import echo_events, preference_events
from schemas.meta.errors import error_events
from schemas.meta.messages import message_events
from schemas.meta.statuses import status_events
from schemas.meta.templates import TEMPLATE_FIELDS

log = logging.getLogger(__name__)

OBJECT = "whatsapp_business_account"

Splitter = Callable[[ChangeContext, dict[str, Any]], list[InboundEvent]]

# Fields whose value holds arrays of updates: value key → the family that splits it.
SPLIT_FIELDS: dict[str, dict[str, Splitter]] = {
    "messages": {"messages": message_events, "statuses": status_events, "errors": error_events},
    "calls": {"calls": call_events, "statuses": call_status_events, "errors": error_events},
    "smb_message_echoes": {"message_echoes": echo_events, "errors": error_events},
    "user_preferences": {"user_preferences": preference_events, "errors": error_events},
}
WHOLE_VALUE_FIELDS = ACCOUNT_FIELDS | TEMPLATE_FIELDS
# Keys of a split value that describe the change rather than carry updates.
CONTEXT_KEYS = frozenset({"messaging_product", "metadata", "contacts"})


def parse_bytes(raw: bytes, *, correlation_id: str, received_at: str) -> list[InboundEvent]:
    """Parse a raw POST body; see :func:`parse_body`."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"body is not valid JSON: {exc}") from None
    return parse_body(body, correlation_id=correlation_id, received_at=received_at)


def parse_body(body: Any, *, correlation_id: str, received_at: str) -> list[InboundEvent]:
    """Every update of a decoded webhook body as an event, in body order.

    Raises :class:`MetaPayloadError` when the body is not a WhatsApp Business webhook
    or carries no update at all.
    """
    if not isinstance(body, dict):
        raise MetaPayloadError("body must be a JSON object")
    if body.get("object") != OBJECT:
        raise MetaPayloadError(f'"object" must be "{OBJECT}"')
    entries = body.get("entry")
    if not isinstance(entries, list) or not entries:
        raise MetaPayloadError('"entry" must be a non-empty array')
    out: list[InboundEvent] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise MetaPayloadError("must be an object", f"entry[{i}]")
        changes = entry.get("changes")
        if not isinstance(changes, list):
            raise MetaPayloadError('"changes" must be an array', f"entry[{i}]")
        waba_id = ident(entry.get("id"))
        entry_time = timestamp(entry.get("time"))
        for j, change in enumerate(changes):
            if not isinstance(change, dict):
                raise MetaPayloadError("must be an object", f"entry[{i}].changes[{j}]")
            field, value = change.get("field"), change.get("value")
            if not isinstance(field, str) or not field:
                raise MetaPayloadError('"field" must be a non-empty string',
                                       f"entry[{i}].changes[{j}]")
            if not isinstance(value, dict):
                raise MetaPayloadError('"value" must be an object', f"entry[{i}].changes[{j}]")
            metadata = value.get("metadata")
            ctx = ChangeContext(
                field=field, waba_id=waba_id,
                phone_number_id=ident(metadata.get("phone_number_id"))
                if isinstance(metadata, dict) else ident(value.get("phone_number_id")),
                entry_time=entry_time, entry_index=i, change_index=j,
                correlation_id=correlation_id, received_at=received_at,
                profile_names=profile_names(value.get("contacts")),
            )
            out.extend(_change_events(ctx, value))
    if not out:
        raise MetaPayloadError("the body carries no updates")
    return out


def _change_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    splitters = SPLIT_FIELDS.get(ctx.field)
    if splitters is None:
        # Account, template and unknown fields: the change itself is the update.
        if ctx.field in WHOLE_VALUE_FIELDS:
            type_ = whole_value_type(ctx.field, value)
        else:
            # "unknown." first, so that no prefix test (startswith("message")) can
            # mistake a field Meta adds tomorrow for one we handle.
            log.warning("unknown webhook field kept as unknown.<field>",
                        extra={"field": token(ctx.field) or "<unprintable>"})
            type_ = f"unknown.{token(ctx.field) or 'field'}"
        # Meta sends the very same value when a template changes back (approved, paused,
        # approved again): only the entry's time tells the two changes apart.
        salt = (ctx.entry_time or 0) if ctx.field in TEMPLATE_FIELDS else 0
        return [ctx.hashed(type_, ctx.fallback_key(), value, salt)]
    out: list[InboundEvent] = []
    leftover = False
    for key in value:  # dict order = body order
        split = splitters.get(key)
        if split is not None:
            out.extend(split(ctx, value))
        elif key not in CONTEXT_KEYS:
            leftover = True
    if leftover or not out:
        # Keys we do not split (a new Meta array, say) are kept, whole, beside the rest.
        out.append(ctx.hashed(f"unknown.{ctx.field}", ctx.fallback_key(), value, -1))
    return out
