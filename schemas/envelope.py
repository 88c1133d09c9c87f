"""The envelope of a ``wa.inbound`` record: one Meta update, flattened once at the edge.

Key = the user's ``wa_id`` (or, for updates that have no user, the phone number id
or the WABA id). Value = this envelope as JSON (orjson). ``payload`` is Meta's
original sub-object, verbatim, so that nothing Meta sent is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import orjson

SCHEMA_VERSION = 1


class EnvelopeError(ValueError):
    """A record on ``wa.inbound`` that is not a valid envelope (a permanent error)."""

    transient = False


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One inbound update from Meta (a message, a status, an error, an account update…)."""

    event_id: str
    type: str
    wa_id: str
    phone_number_id: str | None
    timestamp: int | None
    received_at: str
    correlation_id: str
    payload: dict[str, Any]
    field: str = "messages"
    waba_id: str | None = None
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = dc_field(default_factory=dict)
    # The contact's WhatsApp profile name when Meta sent one: PII, log it at DEBUG only.
    profile_name: str | None = None

    @property
    def key(self) -> bytes:
        return self.wa_id.encode()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "event_id": self.event_id,
            "type": self.type,
            "wa_id": self.wa_id,
            "phone_number_id": self.phone_number_id,
            "timestamp": self.timestamp,
            "received_at": self.received_at,
            "correlation_id": self.correlation_id,
            "schema_version": self.schema_version,
            "field": self.field,
            "waba_id": self.waba_id,
            "profile_name": self.profile_name,
            "payload": self.payload,
        }
        d.update(self.extra)
        return d

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InboundEvent:
        try:
            version = int(d.get("schema_version", 1))
            d = upcast(d, version)
            known = {
                "event_id", "type", "wa_id", "phone_number_id", "timestamp", "received_at",
                "correlation_id", "schema_version", "field", "waba_id", "payload",
                "profile_name",
            }
            ts = d.get("timestamp")
            return cls(
                event_id=str(d["event_id"]),
                type=str(d["type"]),
                wa_id=str(d["wa_id"]),
                phone_number_id=d.get("phone_number_id"),
                timestamp=int(ts) if ts is not None else None,
                received_at=str(d["received_at"]),
                correlation_id=str(d.get("correlation_id") or ""),
                payload=dict(d.get("payload") or {}),
                field=str(d.get("field") or "messages"),
                waba_id=d.get("waba_id"),
                schema_version=SCHEMA_VERSION,
                extra={k: v for k, v in d.items() if k not in known},
                profile_name=d.get("profile_name"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EnvelopeError(f"not a wa.inbound envelope: {exc!r}") from exc

    @classmethod
    def from_bytes(cls, raw: bytes) -> InboundEvent:
        try:
            d = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"wa.inbound value is not JSON: {exc}") from exc
        if not isinstance(d, dict):
            raise EnvelopeError("wa.inbound value is not a JSON object")
        return cls.from_dict(d)


def upcast(d: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring an older envelope up to SCHEMA_VERSION (there is only version 1 so far).

    A newer version than ours is read as far as we understand it: unknown fields
    are kept in ``extra`` and never crash a consumer.
    """
    return d
