"""Fast unit tests of the worker's pieces that need no broker: record bytes, the
deadline cache of the timer task, the rides index fold."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka.errors import KafkaTimeoutError

from schemas.delivery import DeliveryUpdate
from schemas.domain import DomainEvent
from schemas.outbound import OutboundMessage
from schemas.state import StateTransition
from streams.agent.conversation import ConversationProcessor, Group, _bytes
from streams.agent.timers import DeadlineCache, timer_event, timer_id
from streams.domains import REGISTRY
from streams.domains.rides.index import RidesIndex
from streams.engine.domains import Domains
from streams.engine.model import Conv
from streams.runtime.read_models import apply_record
from tests.support.tables import StateTable
from wastream.config import Settings

CONF = SimpleNamespace(producer_max_request_size=1_000_000)  # the Faust app's conf


def test_fast_record_bytes_equal_the_contract_bytes() -> None:
    for rec in (
        OutboundMessage(
            outbound_id="e:0", wa_id="1", phone_number_id="2", body={"a": [1, {"b": None}]}
        ),
        StateTransition(
            wa_id="1", seq=3, event_id="e", flow="menu", step="main", data={"x": {"y": [1.5]}}
        ),
        DomainEvent(event_id="e:RideRequested", name="RideRequested", wa_id="1", data={"km": 1.2}),
        DeliveryUpdate(wa_id="1", status="read", wamid="w", source="webhook"),
    ):
        assert _bytes(rec) == rec.to_bytes()
        assert type(rec).from_bytes(_bytes(rec)) == rec


def test_deadline_cache_due_fired_and_rebuild() -> None:
    cache = DeadlineCache()
    cache.update("u1", {"idle": 10.0, "reminder:t1": 50.0})
    cache.update("u2", {})
    assert cache.due(5) == []
    assert cache.due(20) == [("u1", "idle", 10.0)]
    cache.fired.add(timer_id("u1", "idle", 10.0))
    assert cache.due(20) == []
    assert sorted(cache.due(60)) == [("u1", "reminder:t1", 50.0)]
    c2 = Conv(wa_id="u3", deadlines={"ride_timeout": 7.0})
    cache.rebuild([(b"u3", c2.to_bytes()), (b"u4", Conv(wa_id="u4").to_bytes()), (b"u5", None)])
    assert [(u, cache.of(u)) for u in ("u1", "u2", "u3", "u4", "u5") if u in cache] == [
        ("u3", {"ride_timeout": 7.0})]
    ev = timer_event("u3", "ride_timeout", 7.0)
    assert ev.event_id == "timer:u3:ride_timeout:7000"
    assert ev.payload == {"kind": "ride_timeout", "due": 7.0}
    assert ev.wa_id == "u3"
    assert ev.type == "wastream.timer"


def test_deadline_cache_follows_moved_and_removed_deadlines() -> None:
    cache = DeadlineCache()
    cache.update("u1", {"idle": 10.5})
    cache.update("u1", {"idle": 30.0})  # moved: the old second holds nothing of it
    assert cache.due(20) == []
    assert cache.due(30) == [("u1", "idle", 30.0)]
    cache.update("u1", {})  # handled before it was seen fired
    assert cache.due(40) == []
    cache.update("u2", {"a": 5.2, "b": 5.9})  # past already: due at once
    assert sorted(cache.due(6)) == [("u2", "a", 5.2), ("u2", "b", 5.9)]
    assert sorted(cache.due(6)) == [("u2", "a", 5.2), ("u2", "b", 5.9)]  # handed, not fired
    cache.fired.add(timer_id("u2", "a", 5.2))
    assert cache.due(7) == [("u2", "b", 5.9)]  # until seen fired


async def test_deadline_cache_rebuild_in_slices_keeps_updates_made_meanwhile() -> None:
    rows = [(f"u{i}".encode(), Conv(wa_id=f"u{i}", deadlines={"idle": 100.0 + i}).to_bytes())
            for i in range(5000)]
    cache = DeadlineCache()
    cache.update("u1", {"idle": 1.0})
    cache.update("gone", {"idle": 2.0})

    async def agent() -> None:  # runs between the scan's slices
        await asyncio.sleep(0)
        cache.update("u3", {"idle": 3.0})  # newer than the table's copy
        cache.update("u4", {})

    await asyncio.gather(cache.rebuild_in_slices(rows, slice_size=100), agent())
    assert cache.of("u3") == {"idle": 3.0}
    assert "u4" not in cache
    assert "gone" not in cache
    assert cache.of("u1") == {"idle": 101.0}
    assert sorted(cache.due(103)) == [("u0", "idle", 100.0), ("u1", "idle", 101.0),
                                      ("u2", "idle", 102.0), ("u3", "idle", 3.0)]


def test_rides_index_fold_is_idempotent_and_expires() -> None:
    # Records as they come from wa.domain, through the worker's follower.
    domains = Domains.load(REGISTRY, Settings.from_env({"WASTREAM_RADIUS_KM": "5"}))
    idx = domains.model("rides", RidesIndex)

    def fold(event_id: str, name: str, wa_id: str, data: dict[str, object]) -> None:
        rec = DomainEvent(event_id=event_id, name=name, wa_id=wa_id, data=data).to_bytes()
        apply_record(domains, rec, 0)

    on = {"vehicle": "moto", "lat": 0.0, "lon": 0.0, "until": 100.0}
    fold("a", "DriverOnline", "d1", on)
    fold("a", "DriverOnline", "d1", on)
    assert idx.drivers("moto", 0.0, 0.01, now=50) == [
        ("d1", idx.drivers("moto", 0.0, 0.01, now=50)[0][1])
    ]
    assert idx.drivers("moto", 0.0, 0.01, now=100) == []
    assert idx.drivers("moto", 0.0, 0.1, now=50) == []  # 11 km > 5 km
    fold("b", "DriverOffline", "d1", {"reason": "stop"})
    assert idx.driver("d1", 50) is None
    fold("c", "RideSearched", "p1", {"vehicle": "cab", "lat": 0.0, "lon": 0.0, "until": 100.0})
    assert [w for w, _ in idx.passengers("cab", 0.0, 0.0, now=1)] == ["p1"]
    fold("d", "RideAccepted", "d2", {"request_id": "r", "passenger": "p1", "driver": "d2"})
    assert idx.passengers("cab", 0.0, 0.0, now=1) == []
    fold("e", "DriverOnline", "d3", {"vehicle": "moto"})  # malformed: skipped
    fold("f", "SomethingNew", "d3", {})  # a type no domain declares: skipped
    assert idx.online == {}
    idx.searching["old"] = {"vehicle": "cab", "lat": 0.0, "lon": 0.0, "until": 1.0}
    idx.prune(2.0)
    assert "old" not in idx.searching


class _Batch:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    def append(self, *, timestamp: None, key: bytes, value: bytes, headers: object) -> object:
        self.values.append(value)
        return self


class _Producer:
    """Stands in for the aiokafka producer in the group-commit test only: the batches it
    is handed, and delivery futures that the test settles (some with an error)."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.sent: list[bytes] = []
        self.futures: list[asyncio.Future[None]] = []
        self.asked: list[str] = []  # topics whose partitions were asked for

    def _ensure_producer(self) -> _Producer:
        return self

    async def partitions_for(self, topic: str) -> set[int]:
        self.asked.append(topic)
        return {0, 1, 2, 3}

    def create_batch(self) -> _Batch:
        return _Batch()

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> object:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sent += batch.values
        self.futures.append(fut)
        if self.refuse > 0:
            self.refuse -= 1
            fut.set_exception(KafkaTimeoutError())
        else:
            asyncio.get_running_loop().call_later(0.01, fut.set_result, None)
        return fut


class _Table(StateTable):
    def __init__(self, producer: _Producer) -> None:
        super().__init__()
        self.producer = producer
        self.unacked_at_write: list[int] = []

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.unacked_at_write.append(sum(not f.done() for f in self.producer.futures))
        super().__setitem__(key, value)


async def test_group_settles_effects_before_states_and_resends_refused_records() -> None:
    producer = _Producer(refuse=1)
    table = _Table(producer)
    rt = SimpleNamespace(
        app=SimpleNamespace(producer=producer, conf=CONF), chat_state=table,
        settings=Settings.from_env({}))
    proc = ConversationProcessor(rt, Domains.load(REGISTRY), DeadlineCache(), seen={})  # type: ignore[arg-type]
    group = Group()
    topic = SimpleNamespace(get_topic_name=lambda: "wa.outbound")
    await proc._send(topic, "u1", b"reply-1", "c", group)
    await proc._send(topic, "u1", b"state-1", "c", group)
    group.states[b"u1"] = b"conv-1"
    assert table == {}  # nothing is stored before the group is settled
    await proc.settle(group)
    # one batch (one partition: one key), refused once, then sent again whole
    assert producer.sent == [b"reply-1", b"state-1", b"reply-1", b"state-1"]
    assert table == {b"u1": b"conv-1"}
    assert table.unacked_at_write == [0]  # every effect was acknowledged first
    # the changelog's partitions were known before the first write (the table picks
    # the partition from the key, and aiokafka's partitioner needs them)
    assert producer.asked == ["wa.outbound", "chat_state-changelog"]
    assert group.states == {}
    assert group.unacked == []
