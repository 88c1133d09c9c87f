"""The parked table (``streams.failure.parking``) and the router's use of it: order,
redelivery after a crash, release, the cap per key, and records that stay small
whatever the backlog (issue 10). No broker: a dict stands for the Faust table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from schemas import headers as h
from schemas.envelope import InboundEvent
from streams.failure import parking
from streams.failure.errors import TransientError
from streams.failure.parking import ParkedItem
from streams.failure.router import RELEASE_BATCH, FailureRouter, Origin
from tests.support.failure import MemoryPublisher, event
from wastream.config import Settings

P = "t."
INBOUND = P + "wa.inbound"
HEAD = (INBOUND, 0, 10)


def item(offset: int, value: bytes = b"v") -> ParkedItem:
    return ParkedItem(f"{INBOUND}:0:{offset}", INBOUND, 0, offset, b"a", value, {"x": b"1"})


def parked_behind_head(*offsets: int) -> dict[str, Any]:
    parked: dict[str, Any] = {}
    parking.set_head(parked, "a", "token-1", HEAD)
    for o in offsets:
        assert parking.append(parked, "a", item(o))
    return parked


def test_records_are_queued_in_order_each_under_its_own_key() -> None:
    parked = parked_behind_head(11, 12, 13)
    assert [i.offset for i in parking.queue(parked, "a")] == [11, 12, 13]
    first = parking.first(parked, "a")
    assert first is not None
    assert (first.offset, first.seq, first.value) == (11, 0, b"v")
    assert sorted(parked) == ["a", "a\x000", "a\x001", "a\x002"]
    assert parking.count(parked, "a") == 3
    assert parking.queue(parked, "a")[1].headers == {"x": b"1"}


def test_no_record_grows_with_the_backlog() -> None:
    parked = parked_behind_head()
    for o in range(11, 5011):
        parking.append(parked, "a", item(o, b"x" * 1000))
    sizes = {k: len(orjson.dumps(v)) for k, v in parked.items()}
    assert len(sizes) == 5001
    assert max(sizes.values()) < 2000, max(sizes.values())
    assert sizes["a"] < 200, parked["a"]


def test_a_redelivered_record_is_not_appended_twice() -> None:
    parked = parked_behind_head(11, 12)
    assert not parking.append(parked, "a", item(11))  # Faust replays after a crash
    assert not parking.append(parked, "a", item(12))
    assert parking.append(parked, "a", item(13))
    assert [i.offset for i in parking.queue(parked, "a")] == [11, 12, 13]


def test_a_released_record_redelivered_is_not_appended_again() -> None:
    parked = parked_behind_head(11, 12)
    parking.remove(parked, "a", item(11).origin_id)  # released: it ran
    assert not parking.append(parked, "a", item(11))
    assert [i.offset for i in parking.queue(parked, "a")] == [12]


def test_a_record_at_or_before_the_head_is_appended_again() -> None:
    """It ran before the key was parked; a crash may have lost what it did, so it is
    queued (the consumers' own dedupe drops it when nothing was lost)."""
    parked = parked_behind_head(11, 12)
    assert parking.append(parked, "a", item(9))
    assert parking.append(parked, "a", item(10))
    assert [i.offset for i in parking.queue(parked, "a")] == [11, 12, 9, 10]
    assert not parking.append(parked, "a", item(12))  # the marker did not go back


def test_release_removes_the_front_through_a_record_then_unpark_leaves_nothing() -> None:
    parked = parked_behind_head(11, 12, 13, 14)
    parking.remove(parked, "a", item(13).origin_id)
    assert [i.offset for i in parking.queue(parked, "a")] == [14]
    parking.remove(parked, "a", "t.wa.inbound:0:99")  # not queued: nothing happens
    assert [i.offset for i in parking.queue(parked, "a")] == [14]
    parking.set_head(parked, "a", "token-2", (INBOUND, 0, 14), drop_through=item(14).origin_id)
    assert parking.head(parked, "a") == "token-2"
    assert parking.queue(parked, "a") == []
    parking.unpark(parked, "a")
    assert parked == {}


def test_an_item_deleted_before_its_counter_moved_is_skipped() -> None:
    """A crash between deleting a released item and moving ``first`` past it."""
    parked = parked_behind_head(11, 12)
    del parked["a\x000"]
    assert parking.first(parked, "a") is not None
    assert [i.offset for i in parking.queue(parked, "a")] == [12]
    parking.unpark(parked, "a")
    assert parked == {}


# -- through the router -------------------------------------------------------------------


class Worker:
    """A router over a dict, failing per a plan; logs process calls, barriers and the
    parked-table writes that claim records ran (a new head, a release)."""

    def __init__(self, fail: dict[str, list[Exception]] | None = None, **env: str) -> None:
        self.settings = Settings.from_env({"WASTREAM_TOPIC_PREFIX": P,
                                           "WASTREAM_RETRY_DELAYS": "1s,2s,3s", **env})
        self.fail = fail or {}
        self.done: list[str] = []
        self.log: list[str] = []
        self.parked = Recorder(self.log)
        self.pub = MemoryPublisher()
        self.offset = 0
        self.router = FailureRouter(None, self.settings, self.process, parked=self.parked,
                                    publisher=self.pub, barrier=self.barrier)

    async def process(self, key: bytes | None, value: bytes | None,
                      headers: Mapping[str, bytes], place: Origin) -> None:
        ev = InboundEvent.from_bytes(value or b"")
        self.log.append("process")
        plan = self.fail.get(ev.event_id)
        if plan:
            raise plan.pop(0)
        self.done.append(ev.event_id)

    async def barrier(self) -> None:
        self.log.append("barrier")

    async def send(self, ev: InboundEvent) -> None:
        self.offset += 1
        await self.router.handle(ev.key, ev.to_bytes(), {}, Origin(INBOUND, 0, self.offset))

    async def pump_tiers(self) -> None:
        for s in list(self.pub.sent):
            if s.topic.startswith(P + "wa.retry."):
                self.pub.sent.remove(s)
                self.offset += 1
                await self.router.handle(s.key, s.value, s.headers,
                                         Origin(INBOUND, 0, self.offset))


class Recorder(dict[str, Any]):
    """The parked table; logs the writes that say records ran."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def __setitem__(self, key: str, value: Any) -> None:
        old = self.get(key)
        if "\x00" not in key and (old is None or (old["head"], old["first"]) != (
                value["head"], value["first"])):
            self.log.append("claim")
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.log.append("claim")
        super().__delitem__(key)


async def test_release_runs_every_record_in_order_across_batches() -> None:
    n = 2 * RELEASE_BATCH + 50
    w = Worker(fail={"wamid.a.0": [TransientError("t")],
                     f"wamid.a.{RELEASE_BATCH + 20}": [TransientError("t")]})
    for i in range(n):
        await w.send(event("a", i))
    await w.send(event("b", 0))  # another key is not held
    assert w.done == ["wamid.b.0"]
    await w.pump_tiers()  # a.0 ok; the release stops at the one that fails again
    assert w.done[1:] == [f"wamid.a.{i}" for i in range(RELEASE_BATCH + 20)]
    await w.pump_tiers()
    assert w.done[1:] == [f"wamid.a.{i}" for i in range(n)]  # each once, in order
    assert w.parked == {}


async def test_every_claim_that_records_ran_comes_after_a_barrier() -> None:
    """A new head or a release is written only after the agent has stored what the
    records before it did: a crash never leaves the parked table ahead of the state."""
    w = Worker(fail={"wamid.a.0": [TransientError("t")], "wamid.a.3": [TransientError("t")]})
    for i in range(6):
        await w.send(event("a", i))
    await w.pump_tiers()
    await w.pump_tiers()
    assert w.done == [f"wamid.a.{i}" for i in range(6)]
    last = None
    for entry in w.log:
        if entry == "claim":
            assert last != "process", w.log
        last = entry if entry != "claim" else last


async def test_past_the_cap_a_record_is_dead_lettered_and_the_queue_kept() -> None:
    w = Worker(fail={"wamid.a.0": [TransientError("t")]}, WASTREAM_PARKED_MAX="3")
    for i in range(6):
        await w.send(event("a", i))
    await w.send(event("b", 0))
    dlq = w.pub.on(P + "wa.dlq")
    assert [orjson.loads(d.value or b"")["event_id"] for d in dlq] == ["wamid.a.4", "wamid.a.5"]
    assert {d.headers[h.ERROR_CLASS] for d in dlq} == {
        b"streams.failure.errors.ParkedOverflow"}
    assert w.pub.on(P + "wa.recovery") == []  # the head keeps its place: no recovery
    assert parking.count(w.parked, "a") == 3
    await w.pump_tiers()
    assert w.done == ["wamid.b.0", "wamid.a.0", "wamid.a.1", "wamid.a.2", "wamid.a.3"]
    assert w.parked == {}


async def test_dead_letters_past_the_cap_do_not_wait_one_by_one_but_none_is_lost() -> None:
    """Past the cap the dead letters are sent without waiting for each ack (a flood would
    hold up every other key); one the broker refuses is sent again before the router
    handles another record."""

    class Flaky(MemoryPublisher):
        refused = 0

        async def send(self, topic: str, key: bytes | None, value: bytes | None,
                       headers: Mapping[str, bytes], partition: int | None = None) -> None:
            if topic.endswith("wa.dlq") and not self.refused:
                self.refused += 1
                raise ConnectionError("broker away")
            await super().send(topic, key, value, headers, partition)

    w = Worker(fail={"wamid.a.0": [TransientError("t")]}, WASTREAM_PARKED_MAX="1")
    w.pub = w.router.publisher = Flaky()
    for i in range(5):
        await w.send(event("a", i))
    assert len(w.router._in_flight) == 3  # a.2, a.3, a.4: not awaited yet
    await w.send(event("b", 0))
    assert w.router._in_flight == []
    dlq = [orjson.loads(d.value or b"")["event_id"] for d in w.pub.on(P + "wa.dlq")]
    assert sorted(dlq) == ["wamid.a.2", "wamid.a.3", "wamid.a.4"]
