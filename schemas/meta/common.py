"""Small, total helpers shared by the Meta payload families.

Every helper here accepts ANY JSON value and never raises: Meta's payloads are
forward compatible by contract (new fields, new enum values), and a hostile body
that passed the signature check must still not crash the ingress.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import orjson

from schemas.envelope import InboundEvent

_TOKEN = re.compile(r"^[a-z0-9_]{1,64}$")
_MAX_TS = 2**63 - 1


class MetaPayloadError(ValueError):
    """A body that is not a WhatsApp Business webhook (answered 400, never retried by us).

    ``path`` names where in the body the problem is (``entry[0].changes[1].value``).
    """

    transient = False

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path


class InvalidJson(MetaPayloadError):
    """The body is not JSON at all."""


def ident(value: Any) -> str | None:
    """An id-like value as a string: Meta sends ids as strings, tolerate integers."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def timestamp(value: Any) -> int | None:
    """Meta's epoch-seconds timestamp (a numeric string or an int), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= _MAX_TS else None
    if isinstance(value, str) and 0 < len(value) <= 18 and value.isascii() and value.isdigit():
        return int(value)
    return None


def token(value: Any) -> str | None:
    """A lower-case ``[a-z0-9_]`` token for use inside an event ``type``, else None.

    Keeps types (and the metric labels derived from them) to a safe alphabet even
    when a field carries something unexpected.
    """
    if not isinstance(value, str):
        return None
    low = value.lower()
    return low if _TOKEN.match(low) else None


def content_hash(*parts: Any) -> str:
    """A deterministic id for updates that carry none of their own.

    Meta redelivers the same body on retry, so the hash of the update (and where it
    sits) is the same on every delivery and dedupes downstream.
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(orjson.dumps(part, option=orjson.OPT_SORT_KEYS))
        h.update(b"\x1f")
    return "sha256:" + h.hexdigest()[:40]


# Not frozen: a short-lived helper of the parser, never stored nor shared; one is built
# per change of every body, and a frozen dataclass pays object.__setattr__ per field.
@dataclass(slots=True)
class ChangeContext:
    """Where one ``entry[].changes[]`` item sits: what every event of it shares."""

    field: str
    waba_id: str | None
    phone_number_id: str | None
    entry_time: int | None
    entry_index: int
    change_index: int
    correlation_id: str
    received_at: str
    profile_names: dict[str, str | None] = dc_field(default_factory=dict)

    @property
    def path(self) -> str:
        """Where the change's value sits, for error messages (built only when needed)."""
        return f"entry[{self.entry_index}].changes[{self.change_index}].value"

    def event(self, event_id: str, type_: str, wa_id: str, ts: int | None,
              payload: dict[str, Any]) -> InboundEvent:
        """The ``wa.inbound`` envelope of one update of this change."""
        return InboundEvent(
            event_id=event_id, type=type_, wa_id=wa_id, phone_number_id=self.phone_number_id,
            timestamp=ts if ts is not None else self.entry_time, received_at=self.received_at,
            correlation_id=self.correlation_id, payload=payload, field=self.field,
            waba_id=self.waba_id, profile_name=self.profile_name(wa_id),
        )

    def hashed(self, type_: str, wa_id: str, payload: dict[str, Any], index: int,
               ts: int | None = None) -> InboundEvent:
        """An event whose id is a content hash (updates that carry no id of their own)."""
        eid = content_hash(self.field, self.waba_id, self.phone_number_id, type_, index, payload)
        return self.event(eid, type_, wa_id, ts, payload)

    def fallback_key(self) -> str:
        """Key for updates with no user: the phone number id, else the WABA id."""
        return self.phone_number_id or self.waba_id or "unknown"

    def profile_name(self, wa_id: str | None) -> str | None:
        """The contact's profile name for exactly this ``wa_id`` (never another user's)."""
        return self.profile_names.get(wa_id) if wa_id is not None else None

    def single_contact(self) -> str | None:
        """The wa_id of the change's only contact, if it has exactly one."""
        if len(self.profile_names) == 1:
            return next(iter(self.profile_names))
        return None


def profile_names(contacts: Any) -> dict[str, str | None]:
    """``contacts[]`` of a change value as wa_id → profile name (None when Meta sent none;
    malformed entries skipped)."""
    out: dict[str, str | None] = {}
    if not isinstance(contacts, list):
        return out
    for c in contacts:
        if not isinstance(c, dict):
            continue
        wa_id = ident(c.get("wa_id")) or ident(c.get("user_id"))
        profile = c.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if wa_id is not None:
            out[wa_id] = name if isinstance(name, str) else None
    return out


def items(value: dict[str, Any], key: str, where: ChangeContext) -> list[dict[str, Any]]:
    """``value[key]`` as a list of objects; a present but malformed list is a 400 (its
    message names the place in the body, ``where.path``)."""
    raw = value.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise MetaPayloadError(f'"{key}" must be an array', where.path)
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise MetaPayloadError("must be an object", f"{where.path}.{key}[{i}]")
    return raw
