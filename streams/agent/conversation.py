"""The conversation agent: ``wa.inbound`` → engine → ``wa.outbound``/``wa.state``/… .

One actor (concurrency=1) per worker so that the events of one wa_id are processed in
log order. Every event goes through the ``FailureRouter`` boundary: decoding happens
inside ``process``, so a bad record is routed (dead-lettered) and never kills the agent.

Durability order: an event's effects are acknowledged by the broker BEFORE its
conversation (state + the place of the event, one record) and its dedupe entry are
written to the tables, and the event is acked to Faust (so its offset can be committed)
only after that. A crash in between therefore replays the event with the old state and
the same deterministic output ids, instead of leaving a state that claims a reply which
was never written. Replays and redeliveries are told apart in ``streams.agent.dedupe``.

Group commit: the agent does not wait for the broker after every event. Events are
processed one by one (a later event of the same user sees the earlier one's state from
the group's overlay); when the agent has caught up with what Faust has fetched (or
after WASTREAM_GROUP_MAX events), the group is settled: wait for every effect's ack,
write the states, ack the events. Under load a group holds hundreds of events and costs
one wait; when idle a group is one event, so no latency is added. An event's effects
join the group only when its processing succeeds (a failed event goes to the retry
tiers with none of its replies sent), and an effect larger than a producer request
fails its event permanently (``EffectTooLarge``, dead-lettered) instead of being re-sent
at every settle while the agent stalls.
WASTREAM_OUTPUT_ACKS=buffered skips the wait (faster; unsafe if a crash loses effects
whose state was stored).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
import time
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka.partitioner import murmur2
from faust.types import TP

from schemas import headers as h
from schemas.delivery import DeliveryUpdate
from schemas.domain import DomainEvent
from schemas.envelope import InboundEvent
from schemas.outbound import OutboundMessage
from schemas.recovery import RecoveryUpdate
from schemas.state import StateTransition
from streams.agent import dedupe
from streams.agent.timers import DeadlineCache
from streams.agent.understanding import AgentUnderstanding
from streams.engine import process as engine
from streams.engine import window
from streams.engine.domains import Domains
from streams.engine.model import Conv, Ctx, Out
from streams.failure.errors import EffectTooLarge
from streams.failure.records import Origin
from streams.failure.router import FailureRouter
from streams.runtime import faust_internals, holes
from streams.runtime.app import Runtime
from streams.runtime.tables import local_store, owned_table, owner_partition

log = logging.getLogger(__name__)


def _bytes(rec: Any) -> bytes:
    """``Record.to_bytes()`` without ``dataclasses.asdict``'s deep copy (same JSON)."""
    d = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}
    d["schema_version"] = rec.SCHEMA_VERSION
    return orjson.dumps(d)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


# (topic, key, value, headers, partition: None for murmur2 of the key)
Record = tuple[str, bytes, bytes, list[tuple[str, bytes]], int | None]

# A record batch's and a produce request's framing around one record (a generous bound).
_RECORD_OVERHEAD = 512


@dataclasses.dataclass
class Group:
    """What a group of processed events holds until it is settled: the new states and
    dedupe entries (visible to the group's later events) and the effects not yet
    acknowledged (the dedupe entries' changelog records among them)."""

    states: dict[bytes, bytes] = dataclasses.field(default_factory=dict)
    seen: dict[bytes, bytes] = dataclasses.field(default_factory=dict)
    unsent: list[Record] = dataclasses.field(default_factory=list)
    unacked: list[tuple[Any, list[Record]]] = dataclasses.field(default_factory=list)
    events: int = 0
    # An event's own facts, fed to the domains' read models once the event succeeded.
    facts: list[tuple[str, Any, float]] = dataclasses.field(default_factory=list)


# The group of the actor running now (each actor is its own task, so its own context).
# Outside an actor's loop there is none, and each event is settled on its own.
_GROUP: contextvars.ContextVar[Group | None] = contextvars.ContextVar("group", default=None)


class ConversationProcessor:
    """``process(key, value, headers, place)`` for the failure boundary; raises on failure.

    ``seen`` is the dedupe table (``chat_seen``, one record per applied event id); a
    Faust table of the app by default, a dict in unit tests. Its changelog records are
    effects of the group, not Faust's table writes: sent in the group's batches (the
    cheap path) and acknowledged with the replies, before the states are written, so a
    stored state always has its stored dedupe entry."""

    def __init__(self, rt: Runtime, domains: Domains, deadlines: DeadlineCache,
                 models_ready: asyncio.Event | None = None,
                 understanding: AgentUnderstanding | None = None,
                 seen: MutableMapping[bytes, bytes] | None = None,
                 seen_changelog: str | None = None) -> None:
        self.models_ready = models_ready
        # Free text understood before the engine runs (decision 0014).
        self.understanding = understanding or AgentUnderstanding.from_settings(
            rt.settings.agent)
        self.rt = rt
        if seen is None:
            table = owned_table(rt.app, "chat_seen", rt.settings.partitions, default=None,
                                key_type=bytes, value_type=bytes)
            # Our own bytes (keys "<wa_id>\x00<event_id>", values orjson), as chat_state.
            table.key_serializer = table.value_serializer = "raw"
            seen = table
            self._seen_changelog: str | None = table.changelog_topic.get_topic_name()
        else:
            self._seen_changelog = seen_changelog
        self.seen: MutableMapping[bytes, bytes] = seen
        self.sweeper = dedupe.Sweeper(seen)
        self.domains = domains
        self.deadlines = deadlines
        self.wait_acks = rt.settings.conversation.output_acks == "wait"
        # Last resort for a user we never heard from (e.g. one known only from a read
        # model, sent an internal event by another user): WASTREAM_PHONE_NUMBER_ID.
        self.default_pnid = rt.settings.meta.phone_number_id
        self.processed = 0
        self.duplicates = 0
        self._partitions: dict[str, int] = {}  # topic → partition count
        self._changelog_known = False
        self._max_record: int | None = None  # the producer's request limit, read once

    async def process(
        self, key: bytes | None, value: bytes | None, headers: Mapping[str, bytes],
        place: Origin,
    ) -> None:
        if self.models_ready is not None and not self.models_ready.is_set():
            log.info("waiting for the read models to catch up before the first event")
            await self.models_ready.wait()
        event = InboundEvent.from_bytes(value or b"")  # EnvelopeError: permanent
        wkey = event.wa_id.encode()
        group = _GROUP.get()
        alone = group is None
        if group is None:
            group = Group()
        stored = group.states.get(wkey)
        conv = Conv.from_bytes(
            self.rt.chat_state.get(wkey) if stored is None else stored,
            event.wa_id,
            self.domains.kept,
        )
        now = time.time()
        skey = dedupe.seen_key(event.wa_id, event.event_id)
        pending = group.seen.get(skey)
        seen = dedupe.Seen.from_bytes(self.seen.get(skey) if pending is None else pending)
        verdict = dedupe.verdict(conv.pos, seen, place.partition, place.offset, now)
        if verdict is not dedupe.Verdict.NEW:
            self.duplicates += 1
            log.debug("%s event %s for %s ignored", verdict.value, event.event_id, event.wa_id)
            if verdict is dedupe.Verdict.REPLAY and seen is None:
                # The state was stored and its dedupe entry is not (expired, or written by
                # an older version): write it now, before a later record (a redelivery of
                # this event) can run.
                self._mark_seen(group, skey, place, now)
                if alone:
                    await self.settle(group)
            return
        # -- the understanding of free text (decision 0014): before the pure engine, for
        # the steps that ask for it; a backend's transient error leaves here for the
        # retry tiers (this user's later events are parked behind it).
        heard, heard_ms = await self.understanding.before(self.domains, conv, event)
        # --
        before = conv.to_bytes()
        out = engine.process(
            conv, Ctx(event=event, now=now, opts=self.rt.opts, domains=self.domains,
                      understanding=heard, understanding_ms=heard_ms)
        )
        # The event's effects join the shared group only once all of them are built: if
        # building one raises, the event goes to the retry tiers or wa.dlq and none of
        # its effects goes out with the group (its retry builds them again).
        staged = Group()
        await self._emit(event, conv, out, now, staged)
        self._check_sizes(staged.unsent)
        group.unsent.extend(staged.unsent)
        for wa_id, fact, at in staged.facts:  # our own facts, visible at once
            self.domains.apply(wa_id, fact, at)
        if conv.to_bytes() != before:  # only what changes the conversation is recorded
            conv.pos = [place.partition, place.offset]
            group.states[wkey] = conv.to_bytes()
            self._mark_seen(group, skey, place, now)
            self.deadlines.update(event.wa_id, conv.deadlines)
        group.events += 1
        self.processed += 1
        if alone:
            await self.settle(group)

    def _check_sizes(self, records: list[Record]) -> None:
        """Refuse (permanently) an effect the broker would refuse on every try: the group
        would re-send it forever and its agent would stall."""
        if self._max_record is None:
            self._max_record = faust_internals.max_request_bytes(self.rt.app)
        for topic, key, value, hdrs, _ in records:
            size = len(key) + len(value) + sum(len(k) + len(v) for k, v in hdrs)
            if size + _RECORD_OVERHEAD > self._max_record:
                raise EffectTooLarge(f"an effect for {topic} is {size} bytes, more than a "
                                     f"producer request may carry ({self._max_record})")

    def _mark_seen(self, group: Group, skey: bytes, place: Origin, now: float) -> None:
        """Record the event id as applied: its changelog record is one of the group's
        effects; the table's local store gets it once the group is acknowledged."""
        entry = dedupe.Seen(now + self.rt.opts.dedupe_ttl_s, place.partition,
                            place.offset).to_bytes()
        group.seen[skey] = entry
        if self._seen_changelog is not None:
            group.unsent.append((self._seen_changelog, skey, entry, [],
                                 owner_partition(skey, self.rt.settings.partitions)))

    async def barrier(self) -> None:
        """The failure router is about to record that records ran (a new head, a
        release): store the open group and flush the producer first, so the parked
        table is never ahead of the states after a crash."""
        group = _GROUP.get()
        if group is not None:
            await self.settle(group)
        faust_producer: Any = self.rt.app.producer
        await faust_producer.flush()

    async def settle(self, group: Group) -> None:
        """Send the group's effects, wait until every one is acknowledged (re-sending
        what the broker refused, with back-off: an outage delays the group, never drops
        it), then store the group's states and wait until their changelog records are
        acknowledged too (the caller acks the group's events after this)."""
        backoff = 0.2
        await self._send_batches(group)
        seen_ends: dict[int, int] = {}  # chat_seen changelog partition -> last acked offset
        while self.wait_acks and group.unacked:
            pending, group.unacked = group.unacked, []
            results = await asyncio.gather(*(f for f, _ in pending), return_exceptions=True)
            self._note_seen_ends(pending, results, seen_ends)
            group.unsent = [
                rec
                for (_, recs), r in zip(pending, results, strict=True)
                if isinstance(r, BaseException)
                for rec in recs
            ]
            if group.unsent:
                log.warning(
                    "%d effect records were not acknowledged; re-sending in %.1fs",
                    len(group.unsent),
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                await self._send_batches(group)
        group.unacked.clear()
        if group.states and not self._changelog_known:
            # The table picks the changelog partition from the key (use_partitioner),
            # which needs the producer's metadata for the changelog topic; without it
            # aiokafka's partitioner fails on the first write after a start.
            changelog = self.rt.chat_state.changelog_topic.get_topic_name()
            await faust_internals.kafka_producer(self.rt.app).partitions_for(changelog)
            self._changelog_known = True
        local = local_store(self.seen)  # its changelog records were sent with the effects
        for skey, entry in group.seen.items():
            local[skey] = entry
            seen = dedupe.Seen.from_bytes(entry)
            if seen is not None:
                self.sweeper.note(skey, seen.expiry)
        group.seen.clear()
        self._persist_seen_ends(local, seen_ends)
        # The states are stored before the group's events are acked: Faust's commit
        # flushes its producer buffer only until 0.1 s pass without a record going out
        # (faust/transport/producer.py, flush_atmost) and then commits anyway, so a state
        # left in that buffer could be lost by a crash behind a committed offset, and the
        # user's next message met an older state (seen in the kill -9 test: re-prompts).
        states = self.rt.chat_state
        stored = local_store(states)
        written = []
        for wkey, conv in group.states.items():
            stored[wkey] = conv
            written.append(states.send_changelog(None, wkey, conv))
        if self.wait_acks and written:
            await asyncio.gather(*written)
        group.states.clear()
        group.events = 0

    def _note_seen_ends(self, pending: list[tuple[Any, list[Record]]], results: list[Any],
                        ends: dict[int, int]) -> None:
        """Note the last acknowledged offset of each ``chat_seen`` changelog batch (one
        batch is one topic-partition; its future gives the batch's first offset)."""
        for (_, recs), r in zip(pending, results, strict=True):
            # (r: a RecordMetadata, or the exception; a stand-in producer gives None)
            offset = getattr(r, "offset", None)
            if recs and recs[0][0] == self._seen_changelog and offset is not None:
                ends[r.partition] = max(ends.get(r.partition, -1), offset + len(recs) - 1)

    def _persist_seen_ends(self, local: Any, ends: dict[int, int]) -> None:
        """What Faust does for the tables it writes itself (``Table._on_changelog_sent``):
        record in the store how far its changelog is applied, once the entries are in the
        store. A RocksDB store then replays only the rest at a restart, not the whole
        changelog (about 100,000 records per 100,000 conversations); the memory store
        keeps nothing (a no-op)."""
        setter = getattr(local, "set_persisted_offset", None)
        if setter is None or self._seen_changelog is None:
            return  # a dict in unit tests
        for partition, offset in ends.items():
            setter(TP(self._seen_changelog, partition), offset)

    async def _send(self, topic: Any, key: str, value: bytes, corr: str, group: Group) -> None:
        """Add one effect record to the group (sent when the group is settled)."""
        hdrs = [(h.CORRELATION_ID, corr.encode())] if corr else []
        group.unsent.append((topic.get_topic_name(), key.encode(), value, hdrs, None))

    async def _send_batches(self, group: Group) -> None:
        """Hand the group's unsent records to the app's producer, one batch per
        partition (in order), each with one delivery future.

        The aiokafka producer inside Faust's (not ``topic.send``, nor one ``send`` per
        record: a tenth of the per-record cost), because it is the producer Faust
        flushes before committing offsets, so no record is behind a committed offset.
        Partitions are chosen like aiokafka's default partitioner (murmur2 of the key),
        so a user's records land where the ingress puts them."""
        producer = faust_internals.kafka_producer(self.rt.app)
        by_tp: dict[tuple[str, int], list[Record]] = {}
        for rec in group.unsent:
            topic = rec[0]
            n = self._partitions.get(topic)
            if n is None:
                n = self._partitions[topic] = len(await producer.partitions_for(topic))
            p = rec[4] if rec[4] is not None else (murmur2(rec[1]) & 0x7FFFFFFF) % n
            by_tp.setdefault((topic, p), []).append(rec)
        group.unsent = []
        for (topic, partition), recs in by_tp.items():
            batch, held = producer.create_batch(), list[Record]()
            for rec in recs:
                if batch.append(timestamp=None, key=rec[1], value=rec[2], headers=rec[3]) is None:
                    fut = await producer.send_batch(batch, topic, partition=partition)
                    group.unacked.append((fut, held))
                    batch, held = producer.create_batch(), []
                    batch.append(timestamp=None, key=rec[1], value=rec[2], headers=rec[3])
                held.append(rec)
            fut = await producer.send_batch(batch, topic, partition=partition)
            group.unacked.append((fut, held))

    async def _emit(self, ev: InboundEvent, conv: Conv, out: Out, now: float, group: Group) -> None:
        rt, at, corr = self.rt, _iso(now), ev.correlation_id
        if out.recovery is not None:
            await self._recovery(ev, conv, out, "in_progress", at, group)
        try:
            pnid = ev.phone_number_id or conv.phone_number_id or self.default_pnid
            for i, reply in enumerate(out.replies):
                # Outside the recipient's window: its template (decision 0015).
                body, template = window.choose(reply, conv, now, rt.opts.window_s)
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
                    template=template,
                )
                await self._send(rt.outbound, to, _bytes(msg), corr, group)
            names: dict[str, int] = {}
            for fact in out.domain:
                name = fact.type
                n = names[name] = names.get(name, 0) + 1
                eid = f"{ev.event_id}:{name}" + (f":{n}" if n > 1 else "")
                dom = DomainEvent(
                    event_id=eid,
                    name=name,
                    wa_id=conv.wa_id,
                    data=fact.to_data(),
                    caused_by=ev.event_id,
                    at=at,
                    correlation_id=corr,
                    version=fact.version,
                )
                await self._send(rt.domain, conv.wa_id, _bytes(dom), corr, group)
                group.facts.append((conv.wa_id, fact, now))  # applied if the event succeeds
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
                await self._send(rt.inbound, to, internal.to_bytes(), corr, group)
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
                await self._send(rt.delivery, conv.wa_id, _bytes(upd), corr, group)
            for wamid in out.template_of:
                req = OutboundMessage(
                    outbound_id=f"{ev.event_id}:template", wa_id=conv.wa_id,
                    phone_number_id=pnid, body={}, in_reply_to=ev.event_id,
                    correlation_id=corr, created_at=at, template_of=wamid)
                await self._send(rt.outbound, conv.wa_id, _bytes(req), corr, group)
            for change in out.templates:
                # Keyed by the template (compacted): the same partition for its changes.
                await self._send(rt.templates, change.key.decode(), _bytes(change), corr, group)
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
                await self._send(rt.state, conv.wa_id, _bytes(st), corr, group)
        except Exception as exc:
            if out.recovery is not None:
                out.recovery["error"] = repr(exc)[:500]
                await self._recovery(ev, conv, out, "failed", at, group)
            raise
        if out.recovery is not None:
            await self._recovery(ev, conv, out, "completed", at, group)

    async def _recovery(
        self, ev: InboundEvent, conv: Conv, out: Out, status: str, at: str, group: Group
    ) -> None:
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
        await self._send(self.rt.recovery, conv.wa_id, _bytes(upd), ev.correlation_id, group)


def install(rt: Runtime, domains: Domains, deadlines: DeadlineCache,
            models_ready: asyncio.Event | None = None) -> ConversationProcessor:
    """Register the conversation agent on ``wa.inbound``. With ``models_ready``, no event
    is handled before it is set (the domains' read models have caught up with the log)."""
    proc = ConversationProcessor(rt, domains, deadlines, models_ready)
    router = FailureRouter(rt.app, rt.settings, proc.process, barrier=proc.barrier)
    dedupe.install(rt, proc.sweeper)

    # One actor for all of this worker's partitions (default), or one per partition
    # (WASTREAM_ISOLATED_PARTITIONS=1): still one at a time per partition, so per-user
    # order holds, but one partition's wait for acks no longer holds up the others.
    isolated = rt.settings.conversation.isolated_partitions
    group_max = rt.settings.conversation.group_max

    # The guard's locks follow the actors: one for all partitions, or one per partition.
    guard = holes.install(rt.app, rt.settings, rt.inbound.get_topic_name(), router.handle,
                          "conversation", per_partition=isolated)
    # A group left open while the actor waits for an event that does not come (Faust
    # may clear or skip what it queued, e.g. around a rebalance) is settled by a timer
    # after this long: its events must not stay unacked.
    linger_s = rt.settings.conversation.group_linger_ms / 1000

    async def _settle(group: Group) -> None:
        """Settle, however long it takes: if the actor crashed here instead, Faust would
        restart it without ever re-delivering the group's unacked events."""
        backoff = 0.5
        while True:
            try:
                await proc.settle(group)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("settling a group of %d events failed; retrying", group.events)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    @rt.app.agent(rt.inbound, name="conversation", concurrency=1, isolated_partitions=isolated)
    async def conversation(stream: Any) -> None:
        # Manual acks: an event is acked (its offset may be committed) only once its
        # group is settled, i.e. its effects and its state are stored. The guard's lock of
        # the event's partition is held while an event is worked on or a group settled,
        # never while waiting. An actor's events all come under one lock (Faust gives an
        # isolated actor one partition), so an open group has one lock too.
        events = stream.noack()
        fetched = faust_internals.fetched_queue(stream)
        guard.queues.append(fetched)
        group, done = Group(), list[Any]()
        _GROUP.set(group)
        last = [time.monotonic()]

        def group_lock() -> asyncio.Lock | None:
            """The lock the open group's events were handled under (None: no group)."""
            return guard.lock_for(done[0].message.partition) if done else None

        async def settle_open() -> None:  # the caller holds group_lock()
            if done:
                await _settle(group)
                for ev in done:
                    await events.ack(ev)
                done.clear()

        async def settle_for_sweep(partition: int) -> None:  # it holds lock_for(partition)
            if group_lock() is guard.lock_for(partition):
                await settle_open()

        async def settle_stale() -> None:
            while True:
                await asyncio.sleep(linger_s)
                lock, quiet = group_lock(), time.monotonic() - last[0] >= linger_s
                if lock is not None and quiet and not lock.locked():
                    async with lock:
                        await settle_open()

        guard.settlers.append(settle_for_sweep)
        stale = asyncio.ensure_future(settle_stale())
        try:
            async for event in events.events():
                msg = event.message
                async with guard.lock_for(msg.partition):
                    await guard.before(msg.partition, msg.offset)
                    await router.handle(
                        event.key,
                        event.value,
                        event.headers,
                        Origin(msg.topic, msg.partition, msg.offset),
                    )
                    done.append(event)
                    last[0] = time.monotonic()
                    if len(done) >= group_max or fetched.empty():
                        await settle_open()
        finally:
            stale.cancel()
            guard.settlers.remove(settle_for_sweep)
            guard.queues.remove(fetched)

    return proc
