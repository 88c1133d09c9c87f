"""The conversation agent's dedupe (``streams.agent.dedupe``, decision 0011): a replay
(a record at or before the conversation's place) and a redelivery (the same event id at
a new place) change nothing; a crash that kept only one of the two records of an event
(its dedupe entry, its state) never makes the two disagree. The agent runs with dicts
for its tables and a fake producer (no broker)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from schemas.envelope import InboundEvent
from streams.agent.conversation import ConversationProcessor
from streams.agent.dedupe import Seen, Sweeper, Verdict, seen_key, verdict
from streams.agent.timers import DeadlineCache
from streams.domains import REGISTRY
from streams.engine.domains import Domains
from streams.engine.model import Conv, Options
from streams.failure.records import Origin
from streams.runtime.tables import owner_partition
from tests.support import conversations as c
from tests.support.tables import StateTable
from wastream.config import Settings

U = "250788000333"
V = "250788000444"
NOW = 1_790_000_000.0

CONF = SimpleNamespace(producer_max_request_size=1_000_000)  # the Faust app's conf


# -- the rule -----------------------------------------------------------------------------


def test_a_record_at_or_before_the_conversations_place_is_a_replay() -> None:
    assert verdict([0, 41], None, 0, 41, NOW) is Verdict.REPLAY
    assert verdict([0, 41], None, 0, 7, NOW) is Verdict.REPLAY
    assert verdict([0, 41], None, 0, 42, NOW) is Verdict.NEW
    assert verdict([1, 41], None, 0, 7, NOW) is Verdict.NEW  # another partition's offsets
    assert verdict(None, None, 0, 0, NOW) is Verdict.NEW


def test_an_id_applied_at_another_place_is_a_duplicate_until_it_expires() -> None:
    seen = Seen(NOW + 60, 0, 12)
    assert verdict([0, 12], seen, 0, 30, NOW) is Verdict.DUPLICATE  # Meta redelivered it
    assert verdict([0, 12], seen, 0, 30, NOW + 61) is Verdict.NEW


def test_an_id_seen_at_its_own_place_but_not_applied_is_new() -> None:
    """The dedupe entry was stored and the state was not (a crash in between)."""
    assert verdict([0, 11], Seen(NOW + 60, 0, 12), 0, 12, NOW) is Verdict.NEW


# -- through the agent --------------------------------------------------------------------


class _Producer:
    """Acknowledges every batch at once and keeps what was sent: (topic, partition, value)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, bytes]] = []

    def _ensure_producer(self) -> _Producer:
        return self

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2, 3}

    def create_batch(self) -> Any:
        class Batch:
            values: list[bytes] = []

            def append(self, *, timestamp: None, key: bytes, value: bytes,
                       headers: object) -> object:
                self.values = [*self.values, value]
                return self

        return Batch()

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        self.sent += [(topic, partition, v) for v in batch.values]
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut


class _StateTable(StateTable):
    """chat_state; notes how many records the producer had been handed at each write."""

    def __init__(self, producer: _Producer) -> None:
        super().__init__()
        self.producer = producer
        self.sent_at_write: list[int] = []

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.sent_at_write.append(len(self.producer.sent))
        super().__setitem__(key, value)


def _agent(changelog: str | None = None) -> tuple[ConversationProcessor, _Producer,
                                                   dict[bytes, bytes]]:
    producer, seen = _Producer(), dict[bytes, bytes]()
    topics = {name: SimpleNamespace(get_topic_name=lambda n=name: n)
              for name in ("inbound", "outbound", "state", "domain", "delivery", "recovery")}
    rt = SimpleNamespace(app=SimpleNamespace(producer=producer, conf=CONF),
                         chat_state=_StateTable(producer),
                         settings=Settings.from_env({"WASTREAM_PARTITIONS": "4"}),
                         opts=Options(dedupe_ttl_s=600), **topics)
    proc = ConversationProcessor(rt, Domains.load(REGISTRY), DeadlineCache(), seen=seen,  # type: ignore[arg-type]
                                 seen_changelog=changelog)
    return proc, producer, seen


async def _run(proc: ConversationProcessor, ev: InboundEvent, offset: int) -> None:
    await proc.process(ev.key, ev.to_bytes(), {}, Origin("wa.inbound", 0, offset))


def _replies(producer: _Producer) -> list[str]:
    return [orjson.loads(v)["outbound_id"] for t, _, v in producer.sent if t == "outbound"]


async def test_a_replayed_record_changes_nothing() -> None:
    proc, producer, _ = _agent()
    hi = c.text(U, "hi")
    await _run(proc, hi, 5)
    state = proc.rt.chat_state[U.encode()]
    assert Conv.from_bytes(state, U).pos == [0, 5]
    await _run(proc, hi, 5)  # Faust re-delivers after a crash
    assert _replies(producer) == [f"{hi.event_id}:0"]
    assert proc.rt.chat_state[U.encode()] == state


async def test_a_redelivery_at_a_new_offset_changes_nothing() -> None:
    proc, producer, _ = _agent()
    hi, pick = c.text(U, "hi"), c.pick(U, "menu:rides_drivers")
    await _run(proc, hi, 5)
    await _run(proc, pick, 6)
    state = proc.rt.chat_state[U.encode()]
    await _run(proc, pick, 9)  # Meta retried the webhook: same event id, new record
    assert _replies(producer) == [f"{hi.event_id}:0", f"{pick.event_id}:0"]
    assert proc.rt.chat_state[U.encode()] == state


async def test_seen_stored_and_state_lost_the_replay_applies_the_event() -> None:
    proc, producer, seen = _agent()
    hi, pick = c.text(U, "hi"), c.pick(U, "menu:rides_drivers")
    await _run(proc, hi, 5)
    before = proc.rt.chat_state[U.encode()]
    await _run(proc, pick, 6)
    assert seen_key(U, pick.event_id) in seen
    proc.rt.chat_state[U.encode()] = before  # the crash lost the state record only
    await _run(proc, pick, 6)
    conv = Conv.from_bytes(proc.rt.chat_state[U.encode()], U)
    assert (conv.flow, conv.pos) == ("rides_drivers", [0, 6])
    assert _replies(producer) == [f"{hi.event_id}:0", f"{pick.event_id}:0",
                                  f"{pick.event_id}:0"]  # the same id: sent once


async def test_state_stored_and_seen_lost_the_replay_writes_it_again() -> None:
    proc, producer, seen = _agent()
    pick = c.pick(U, "menu:rides_drivers")
    await _run(proc, c.text(U, "hi"), 5)
    await _run(proc, pick, 6)
    del seen[seen_key(U, pick.event_id)]  # the crash lost the dedupe record only
    await _run(proc, pick, 6)  # the replay: caught by the conversation's place ...
    entry = Seen.from_bytes(seen.get(seen_key(U, pick.event_id)))
    assert entry is not None
    assert (entry.partition, entry.offset) == (0, 6)  # ... which writes the entry again
    state = proc.rt.chat_state[U.encode()]
    await _run(proc, pick, 9)  # so a later redelivery is still a duplicate
    assert proc.rt.chat_state[U.encode()] == state
    assert len(_replies(producer)) == 2


async def test_statuses_write_neither_the_conversation_nor_a_dedupe_entry() -> None:
    proc, producer, seen = _agent()
    await _run(proc, c.text(U, "hi"), 5)
    state, entries = proc.rt.chat_state[U.encode()], dict(seen)
    for i in range(50):
        await _run(proc, c.status(U, f"wamid.OUT{i}", "delivered"), 6 + i)
    assert proc.rt.chat_state[U.encode()] == state
    assert seen == entries
    assert len([t for t, _, _ in producer.sent if t == "delivery"]) == 50


async def test_a_dedupe_entry_is_sent_with_the_effects_before_the_state_is_written() -> None:
    """Its changelog record is one of the group's effects, acknowledged with the replies,
    so a stored state always has its stored dedupe entry."""
    proc, producer, seen = _agent(changelog="chat_seen-changelog")
    hi = c.text(U, "hi")
    await _run(proc, hi, 5)
    key = seen_key(U, hi.event_id)
    entries = [(p, v) for t, p, v in producer.sent if t == "chat_seen-changelog"]
    # in the changelog partition of the user (their partition of wa.inbound)
    assert entries == [(owner_partition(U.encode(), 4), seen[key])]
    # every record, the entry's included, was handed over (and acknowledged: the fake
    # acknowledges at once) before the state was written
    assert proc.rt.chat_state.sent_at_write == [len(producer.sent)]  # type: ignore[attr-defined]


async def test_the_events_wait_until_their_states_are_acknowledged() -> None:
    """Faust's commit does not wait for its producer buffer (it gives up after 0.1 s
    without progress): a state still in it when the worker dies would be lost behind a
    committed offset. The settle returns (and the events are acked) only once the
    states' changelog records are acknowledged."""
    proc, _, _ = _agent(changelog="chat_seen-changelog")
    states: Any = proc.rt.chat_state
    states.ack_at_once = False
    hi = c.text(U, "hi")
    processing = asyncio.ensure_future(_run(proc, hi, 5))
    for _ in range(20):
        await asyncio.sleep(0)
    assert [key for key, _ in states.changelog] == [U.encode()]
    assert not processing.done()  # the state's record is not acknowledged yet
    for fut in states.pending:
        fut.set_result(None)
    await asyncio.wait_for(processing, 1)
    assert U.encode() in states


def test_the_sweep_deletes_expired_entries_a_batch_at_a_time() -> None:
    table = {seen_key(U, f"e{i}"): Seen(NOW + i, 0, i).to_bytes() for i in range(10)}
    sweeper = Sweeper(table, batch=3)
    sweeper.rescan()  # entries restored from the changelog
    counts = [sweeper.sweep(NOW + 5.5) for _ in range(5)]
    assert max(counts) <= 3, counts
    assert sorted(table) == sorted(seen_key(U, f"e{i}") for i in range(6, 10))
    table[seen_key(U, "e9")] = Seen(NOW + 100, 0, 99).to_bytes()  # written again since
    table[seen_key(U, "new")] = Seen(NOW + 7, 0, 100).to_bytes()  # written by the agent
    sweeper.note(seen_key(U, "new"), NOW + 7)
    counts = [sweeper.sweep(NOW + 50) for _ in range(3)]
    # e6, e7, e8 and new; at most a batch a sweep (the order within a slot is free)
    assert sum(counts) == 4, counts
    assert max(counts) <= 3, counts
    assert counts[-1] == 0, counts
    assert list(table) == [seen_key(U, "e9")]


def test_noted_entries_wait_for_their_slot_and_go_a_batch_at_a_time() -> None:
    """Entries the agent writes are noted by the minute their expiry falls in: none is
    deleted before its expiry, each is deleted by the end of its slot, a batch a sweep."""
    table: dict[bytes, bytes] = {}
    sweeper = Sweeper(table, batch=2, slot_s=60)
    for i in range(5):
        key = seen_key(U, f"n{i}")
        table[key] = Seen(NOW + 30 * i, 0, i).to_bytes()  # 0, 30, 60, 90, 120 s on
        sweeper.note(key, NOW + 30 * i)
    assert sweeper.sweep(NOW - 1) == 0
    assert len(table) == 5
    assert sweeper.sweep(NOW + 61) == 2  # the slot up to NOW+40: n0 and n1
    assert sorted(table) == sorted(seen_key(U, f"n{i}") for i in (2, 3, 4))
    deleted = [sweeper.sweep(NOW + 180) for _ in range(3)]  # every slot has ended
    assert deleted == [2, 1, 0]
    assert table == {}


class _Lazy(dict[bytes, bytes]):
    """A table whose store is not a dict (as a RocksDB store), counting the keys read."""

    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        self.data = SimpleNamespace()  # local_store(self): not a dict
        self.read = 0

    def keys(self) -> Any:  # type: ignore[override]
        for key in list(super().keys()):
            self.read += 1
            yield key


def test_a_rescan_reads_the_keys_a_batch_at_a_time() -> None:
    """At 1,000,000 entries on RocksDB a rescan that listed every key at once held the
    event loop ~0.4 s; it reads them as the sweeps look at them."""
    table = _Lazy({seen_key(U, f"e{i}"): Seen(NOW + i, 0, i).to_bytes() for i in range(10)})
    sweeper = Sweeper(table, batch=3)
    sweeper.rescan()
    assert table.read == 0
    assert sweeper.sweep(NOW + 5.5) == 3
    assert table.read == 3
    for _ in range(4):
        sweeper.sweep(NOW + 5.5)
    assert table.read == 10
    assert sorted(table) == sorted(seen_key(U, f"e{i}") for i in range(6, 10))


# -- an event's effects join the group only when the event succeeds ---------------------


async def test_a_failed_events_effects_do_not_go_out_with_the_group(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The second event of a group raises after its reply was built: it goes to the
    retry tiers, and its reply must not be sent when the group settles (its retry sends
    it; were it sent now, the user would get a reply of an event that failed)."""
    from streams.agent import conversation

    proc, producer, _ = _agent()
    group = conversation.Group()
    token = conversation._GROUP.set(group)
    ok, bad = c.text(U, "hi"), c.text(V, "hi")
    real, real_process = conversation.StateTransition, conversation.engine.process
    fact = SimpleNamespace(type="Noted", version=1, to_data=dict)  # a business fact
    applied: list[str] = []

    def failing(**kw: Any) -> Any:
        if kw["wa_id"] == V:
            raise RuntimeError("building the state record failed")
        return real(**kw)

    def with_a_fact(conv: Any, ctx: Any) -> Any:
        out = real_process(conv, ctx)
        out.domain.append(fact)
        return out

    monkeypatch.setattr(conversation.engine, "process", with_a_fact)
    monkeypatch.setattr(proc.domains, "apply", lambda wa_id, f, now: applied.append(wa_id))
    try:
        await _run(proc, ok, 5)
        monkeypatch.setattr(conversation, "StateTransition", failing)
        with pytest.raises(RuntimeError):
            await _run(proc, bad, 6)
        await proc.settle(group)
    finally:
        conversation._GROUP.reset(token)
    assert _replies(producer) == [f"{ok.event_id}:0"]
    assert {orjson.loads(v)["wa_id"] for t, _, v in producer.sent if t == "state"} == {U}
    assert {orjson.loads(v)["wa_id"] for t, _, v in producer.sent if t == "domain"} == {U}
    assert applied == [U]  # the failed event's fact reached no read model either
    assert V.encode() not in proc.rt.chat_state


async def test_an_effect_too_large_for_the_broker_fails_its_event_alone() -> None:
    """A record the broker would refuse on every try (larger than a producer request)
    would be re-sent forever at settle, stalling the agent: its event fails instead,
    permanently (the router dead-letters it with its error), and the others go on."""
    from streams.agent import conversation
    from streams.failure.errors import EffectTooLarge, is_transient

    proc, producer, seen = _agent()
    # a menu reply is ~1.4 kB, a delivery status ~0.25 kB: allow the statuses only
    proc.rt.app.conf = SimpleNamespace(producer_max_request_size=1_500)
    group = conversation.Group()
    token = conversation._GROUP.set(group)
    hi = c.text(U, "hi")
    try:
        await _run(proc, c.status(V, "wamid.OUT1", "delivered"), 5)
        joined = len(group.unsent)
        with pytest.raises(EffectTooLarge) as info:
            await _run(proc, hi, 6)
        assert not is_transient(info.value)
        assert len(group.unsent) == joined  # nothing of the failed event joined
        await _run(proc, c.status(V, "wamid.OUT2", "delivered"), 7)  # the others go on
        await proc.settle(group)
    finally:
        conversation._GROUP.reset(token)
    assert [t for t, _, _ in producer.sent] == ["delivery", "delivery"]
    assert U.encode() not in proc.rt.chat_state
    assert seen_key(U, hi.event_id) not in seen
