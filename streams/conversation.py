"""The conversation agent: ``wa.inbound`` → engine → ``wa.outbound``/``wa.state``/… .

One actor (concurrency=1) per worker so that the events of one wa_id are processed in
log order. Every event goes through the ``FailureRouter`` boundary: decoding happens
inside ``process``, so a bad record is routed (dead-lettered) and never kills the agent.

Durability order, per event: the effects are produced and, unless
WASTREAM_OUTPUT_ACKS=buffered, acknowledged by the broker BEFORE the conversation
(state + seen event ids, one record) is written to the table. A crash in between
therefore replays the event with the old state and the same deterministic output ids,
instead of leaving a state that claims a reply which was never written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas import headers as h
from schemas.delivery import DeliveryUpdate
from schemas.domain import DomainEvent
from schemas.envelope import InboundEvent
from schemas.outbound import OutboundMessage
from schemas.recovery import RecoveryUpdate
from schemas.state import StateTransition
from streams import engine
from streams.app import Runtime
from streams.failure import FailureRouter, Origin
from streams.rides_index import RidesIndex
from streams.state import Conv, Ctx, Out
from streams.timers import DeadlineCache

log = logging.getLogger(__name__)


def _bytes(rec: Any) -> bytes:
    """``Record.to_bytes()`` without ``dataclasses.asdict``'s deep copy (same JSON)."""
    d = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}
    d["schema_version"] = rec.SCHEMA_VERSION
    return orjson.dumps(d)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class ConversationProcessor:
    """``process(key, value, headers)`` for the failure boundary; raises on failure."""

    def __init__(self, rt: Runtime, index: RidesIndex, deadlines: DeadlineCache) -> None:
        self.rt = rt
        self.index = index
        self.deadlines = deadlines
        self.wait_acks = rt.settings.extra.get("WASTREAM_OUTPUT_ACKS", "wait") != "buffered"
        # Last resort for a user we never heard from (e.g. a ride request to a driver
        # known only from the index): WASTREAM_PHONE_NUMBER_ID.
        self.default_pnid = rt.settings.extra.get("WASTREAM_PHONE_NUMBER_ID") or ""
        self.processed = 0
        self.duplicates = 0

    async def process(
        self, key: bytes | None, value: bytes | None, headers: Mapping[str, bytes]
    ) -> None:
        event = InboundEvent.from_bytes(value or b"")  # EnvelopeError: permanent
        wkey = event.wa_id.encode()
        conv = Conv.from_bytes(self.rt.chat_state.get(wkey), event.wa_id)
        now = time.time()
        out = engine.process(conv, Ctx(event=event, now=now, opts=self.rt.opts, nearby=self.index))
        if out is None:
            self.duplicates += 1
            log.debug("duplicate event %s for %s ignored", event.event_id, event.wa_id)
            return
        await self._emit(event, conv, out, now)
        self.rt.chat_state[wkey] = conv.to_bytes()
        self.deadlines.update(event.wa_id, conv.deadlines)
        self.processed += 1

    async def _send(self, topic: Any, key: str, value: bytes, corr: str) -> Any:
        """Hand one record to the app's producer; returns the delivery future.

        The app's producer directly (not ``topic.send``): half the per-record cost, and
        it is the producer Faust flushes before committing offsets, so a buffered
        record is never behind a committed offset."""
        hdrs = [(h.CORRELATION_ID, corr.encode())] if corr else None
        return await self.rt.app.producer.send(
            topic.get_topic_name(), key.encode(), value, None, None, hdrs
        )

    async def _emit(self, ev: InboundEvent, conv: Conv, out: Out, now: float) -> None:
        rt, at, corr = self.rt, _iso(now), ev.correlation_id
        futs: list[Any] = []
        if out.recovery is not None:
            await self._recovery(ev, conv, out, "in_progress", at)
        try:
            pnid = ev.phone_number_id or conv.phone_number_id or self.default_pnid
            for i, body in enumerate(out.replies):
                to = str(body.get("to") or conv.wa_id)
                msg = OutboundMessage(
                    outbound_id=f"{ev.event_id}:{i}",
                    wa_id=to,
                    phone_number_id=pnid,
                    body=body,
                    in_reply_to=ev.event_id,
                    correlation_id=corr,
                    flow=conv.flow,
                    created_at=at,
                )
                futs.append(await self._send(rt.outbound, to, _bytes(msg), corr))
            names: dict[str, int] = {}
            for name, data in out.domain:
                n = names[name] = names.get(name, 0) + 1
                eid = f"{ev.event_id}:{name}" + (f":{n}" if n > 1 else "")
                dom = DomainEvent(
                    event_id=eid,
                    name=name,
                    wa_id=conv.wa_id,
                    data=data,
                    caused_by=ev.event_id,
                    at=at,
                    correlation_id=corr,
                )
                futs.append(await self._send(rt.domain, conv.wa_id, _bytes(dom), corr))
                self.index.apply(dom, now)  # our own facts are visible to us at once
            for to, typ, payload in out.internal:
                internal = InboundEvent(
                    event_id=f"{ev.event_id}:{typ}:{to}",
                    type=typ,
                    wa_id=to,
                    phone_number_id=pnid or None,
                    timestamp=int(now),
                    received_at=at,
                    correlation_id=corr,
                    payload=payload,
                    field="wastream",
                )
                futs.append(await self._send(rt.inbound, to, internal.to_bytes(), corr))
            for d in out.delivery:
                upd = DeliveryUpdate(
                    wa_id=conv.wa_id,
                    status=d["status"],
                    wamid=d["wamid"],
                    at=at,
                    source="webhook",
                    error=d["error"],
                    correlation_id=corr,
                )
                futs.append(await self._send(rt.delivery, conv.wa_id, _bytes(upd), corr))
            if out.transition is not None:
                st = StateTransition(
                    wa_id=conv.wa_id,
                    seq=conv.seq,
                    event_id=ev.event_id,
                    flow=conv.flow,
                    step=conv.step,
                    previous_flow=out.transition[0],
                    previous_step=out.transition[1],
                    language=conv.lang,
                    data=conv.data,
                    at=at,
                    correlation_id=corr,
                )
                futs.append(await self._send(rt.state, conv.wa_id, _bytes(st), corr))
            if self.wait_acks and futs:
                await asyncio.gather(*futs)
        except Exception as exc:
            if out.recovery is not None:
                out.recovery["error"] = repr(exc)[:500]
                await self._recovery(ev, conv, out, "failed", at)
            raise
        if out.recovery is not None:
            await self._recovery(ev, conv, out, "completed", at)

    async def _recovery(self, ev: InboundEvent, conv: Conv, out: Out, status: str, at: str) -> None:
        r = out.recovery or {}
        upd = RecoveryUpdate(
            recovery_id=r["recovery_id"],
            conversation_id=conv.wa_id,
            workflow_type="conversation",
            recovery_action="reset_to_menu",
            status=status,
            details=dict(r),
            at=at,
        )
        fut = await self._send(self.rt.recovery, conv.wa_id, _bytes(upd), ev.correlation_id)
        if self.wait_acks:
            await fut


def install(rt: Runtime, index: RidesIndex, deadlines: DeadlineCache) -> ConversationProcessor:
    """Register the conversation agent on ``wa.inbound``."""
    proc = ConversationProcessor(rt, index, deadlines)
    router = FailureRouter(rt.app, rt.settings, proc.process)

    # One actor for all of this worker's partitions (default), or one per partition
    # (WASTREAM_ISOLATED_PARTITIONS=1): still one at a time per partition, so per-user
    # order holds, but one partition's wait for acks no longer holds up the others.
    isolated = rt.settings.extra.get("WASTREAM_ISOLATED_PARTITIONS", "0") == "1"

    @rt.app.agent(rt.inbound, name="conversation", concurrency=1, isolated_partitions=isolated)
    async def conversation(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            await router.handle(
                event.key, event.value, event.headers, Origin(msg.topic, msg.partition, msg.offset)
            )

    return proc
