"""The console's actions, each an event on the log attributed to the operator:

- redrive and discard of dead letters go through ``streams.dlq.ops.DlqOps`` (a
  ``DlqDecision`` on ``wa.dlq.ops`` with ``by`` and ``reason``; redrive exactly once);
- a reset to the menu is a ``wastream.recovery`` event on ``wa.inbound`` keyed by the
  user's wa_id (so it takes its place in the user's order, on the user's partition),
  which the engine already handles: back to the menu, an apology, a ``wa.recovery``
  record with the reason. Its payload names the operator (``by``) and why.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas import topics
from schemas.envelope import InboundEvent
from streams.dlq.ops import DlqOps
from wastream.config import Settings
from wastream.config.kafka import client_args

RESET_TYPE = "wastream.recovery"  # the engine's reset (streams/engine/process.py)
BULK_MAX = 200  # letters one bulk action may touch (each is its own exactly-once decision)


def reset_event(wa_id: str, by: str, reason: str, correlation_id: str) -> InboundEvent:
    """The event that resets ``wa_id``'s conversation to the menu, naming who and why."""
    rid = f"operator-reset:{uuid.uuid4().hex}"
    return InboundEvent(event_id=rid, type=RESET_TYPE, wa_id=wa_id, phone_number_id=None,
                        timestamp=None, received_at=datetime.now(UTC).isoformat(),
                        correlation_id=correlation_id, field="wastream",
                        payload={"recovery_id": rid, "reason": f"operator {by}: {reason}",
                                 "by": by, "operator_reason": reason,
                                 "failed_event_id": None, "dlq_id": None})


class Actions:
    """What an operator may do; every method returns a result for the audit trail."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dlq = DlqOps(settings)
        self._producer: AIOKafkaProducer | None = None

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def _produce(self) -> AIOKafkaProducer:
        if self._producer is None:
            p = AIOKafkaProducer(**client_args(self.settings.kafka),
                                 acks="all", enable_idempotence=True)
            await p.start()
            self._producer = p
        return self._producer

    async def redrive(self, dlq_id: str, by: str, reason: str) -> dict[str, Any]:
        return await self.dlq.redrive(dlq_id, by=by, reason=reason)

    async def discard(self, dlq_id: str, by: str, reason: str) -> dict[str, Any]:
        return await self.dlq.discard(dlq_id, by=by, reason=reason)

    async def reset(self, wa_id: str, by: str, reason: str,
                    correlation_id: str) -> dict[str, Any]:
        event = reset_event(wa_id, by, reason, correlation_id)
        producer = await self._produce()
        meta = await producer.send_and_wait(self.settings.topic(topics.INBOUND),
                                            key=event.key, value=event.to_bytes())
        return {"result": "reset_sent", "event_id": event.event_id,
                "at": f"{meta.topic}:{meta.partition}:{meta.offset}"}
