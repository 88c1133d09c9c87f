"""Workflow recovery: a conversation whose event dead-letters is not left stuck.

After a dead letter on ``wa.inbound`` the failure router calls :meth:`RecoveryEmitter.start`:

1. a ``RecoveryUpdate(status="pending")`` goes to ``wa.recovery`` (the
   ``wa_workflow_recovery`` projection);
2. an ``InboundEvent`` of type ``wastream.recovery`` goes to ``wa.inbound`` (same
   partition, key = the wa_id) with a deterministic ``event_id`` and payload
   ``{"recovery_id", "reason", "failed_event_id", "dlq_id"}``; the conversation engine
   handles that type (reset to the menu with an apology) and emits ``in_progress`` /
   ``completed``;
3. the key is parked behind that event, so the user's later messages run AFTER the
   reset, in order. The event takes the dead letter's place in the key's order
   (``wastream.in_place_of``): the conversation dedupes replays by that place.

If the recovery event itself dead-letters, :meth:`failed` emits ``status="failed"`` and
no new recovery is started (no loops).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import orjson

from schemas import headers as h
from schemas import topics
from schemas.envelope import EnvelopeError, InboundEvent
from schemas.recovery import RecoveryUpdate
from streams.failure.records import Origin, Publisher
from wastream.config import Settings

log = logging.getLogger(__name__)

RECOVERY_TYPE = "wastream.recovery"
RECOVERY_ACTION = "reset_to_menu"


def recovery_id(dlq_id: str) -> str:
    """Deterministic: the same dead letter always yields the same recovery."""
    return f"recovery:{dlq_id}"



def recovery_event(rid: str, wa_id: str, *, reason: str, failed_event_id: str, dlq_id: str,
                   phone_number_id: str | None = None, received_at: str = "",
                   correlation_id: str = "", failed_at: int | None = None) -> InboundEvent:
    """The ``wastream.recovery`` event that walks a conversation out of a dead letter
    (the engine resets it to the menu with an apology). ``failed_at``: Meta's timestamp
    of the failed message, when it was the user's (their window opened then)."""
    return InboundEvent(event_id=rid, type=RECOVERY_TYPE, wa_id=wa_id,
                        phone_number_id=phone_number_id, timestamp=None, received_at=received_at,
                        correlation_id=correlation_id, field="wastream",
                        payload={"recovery_id": rid, "reason": reason,
                                 "failed_event_id": failed_event_id, "dlq_id": dlq_id,
                                 "failed_at": failed_at})

class RecoveryEmitter:
    """Emits the recovery records for one failure router (see the module docstring)."""

    def __init__(self, settings: Settings, publisher: Publisher) -> None:
        self.publisher = publisher
        self.inbound = settings.topic(topics.INBOUND)
        self.topic = settings.topic(topics.RECOVERY)

    @staticmethod
    def is_recovery(hdrs: Mapping[str, bytes]) -> bool:
        return hdrs.get(h.HEAD, b"").startswith(b"recovery:")

    async def start(self, wa_id: str, key: bytes | None, value: bytes | None,
                    hdrs: Mapping[str, bytes], orig: Origin, exc: BaseException) -> str:
        """Emit pending + the recovery event; return the head token the key waits for."""
        rid = recovery_id(orig.dlq_id)
        failed_event_id, phone_number_id, failed_at = orig.dlq_id, None, None
        try:
            event = InboundEvent.from_bytes(value or b"")
            failed_event_id, phone_number_id = event.event_id, event.phone_number_id
            if event.type.startswith("message."):
                failed_at = event.timestamp
        except EnvelopeError:
            pass  # a poison value: the dlq id is all we can name
        now = datetime.now(UTC).isoformat()
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        corr = hdrs.get(h.CORRELATION_ID, b"").decode() or rid
        update = RecoveryUpdate(recovery_id=rid, conversation_id=wa_id,
                                workflow_type="conversation", recovery_action=RECOVERY_ACTION,
                                status="pending", at=now,
                                details={"failed_event_id": failed_event_id,
                                         "dlq_id": orig.dlq_id, "reason": reason})
        await self.publisher.send(self.topic, wa_id.encode(), update.to_bytes(),
                                  {h.CORRELATION_ID: corr.encode()})
        event = recovery_event(rid, wa_id, reason=reason, failed_event_id=failed_event_id,
                               dlq_id=orig.dlq_id, phone_number_id=phone_number_id,
                               received_at=now, correlation_id=corr, failed_at=failed_at)
        await self.publisher.send(self.inbound, key, event.to_bytes(),
                                  {h.CORRELATION_ID: corr.encode(), h.HEAD: rid.encode(),
                                   h.IN_PLACE_OF: orig.dlq_id.encode()},
                                  orig.partition)
        log.info("recovery %s started for a dead letter (%s)", rid, type(exc).__name__)
        return rid

    async def failed(self, wa_id: str, value: bytes | None, exc: BaseException) -> None:
        """The recovery event itself dead-lettered: record it as failed."""
        try:
            payload = orjson.loads(value or b"{}").get("payload") or {}
        except (orjson.JSONDecodeError, AttributeError):
            payload = {}
        rid = str(payload.get("recovery_id") or "recovery:unknown")
        update = RecoveryUpdate(recovery_id=rid, conversation_id=wa_id,
                                workflow_type="conversation", recovery_action=RECOVERY_ACTION,
                                status="failed", at=datetime.now(UTC).isoformat(),
                                details={"reason": f"{type(exc).__name__}: {str(exc)[:200]}"})
        await self.publisher.send(self.topic, wa_id.encode(), update.to_bytes(), {})
