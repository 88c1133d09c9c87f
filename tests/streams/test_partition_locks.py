"""The conversation agent's locks follow its actors (streams/agent/conversation.py):
with WASTREAM_ISOLATED_PARTITIONS=1 each partition's actor works under its own lock, so
one partition's wait for broker acks does not hold up another's events; the hole
guard's sweep settles only the group of the actor whose lock it holds. By default one
actor and one lock serve every partition, as before.

The agent runs from the real ``install()`` on a stand-in of the Faust app (the parts
``install`` and the hole guard use) and a producer whose acks the test releases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest

from streams.agent import conversation
from streams.agent.timers import DeadlineCache
from streams.domains import REGISTRY
from streams.engine.domains import Domains
from streams.engine.model import Options
from streams.failure import router
from streams.runtime import holes
from tests.support import conversations as c
from tests.support.tables import StateTable
from wastream.config import Settings

SLOW, FAST = "250788100001", "250788100002"  # their acks are held / given at once


class _Batch:
    def __init__(self) -> None:
        self.keys: list[bytes] = []

    def append(self, *, timestamp: None, key: bytes, value: bytes, headers: object) -> object:
        self.keys.append(key)
        return self


class _Producer:
    """The aiokafka producer inside Faust's: acks for SLOW's records wait for ``release``."""

    def __init__(self) -> None:
        self.held: list[asyncio.Future[None]] = []
        self.slow_sent = asyncio.Event()
        self.release_on_send = False  # from now on, SLOW's acks come at once too

    def _ensure_producer(self) -> _Producer:
        return self

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1}

    def create_batch(self) -> _Batch:
        return _Batch()

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> object:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if SLOW.encode() in batch.keys:
            self.slow_sent.set()
        if SLOW.encode() in batch.keys and not self.release_on_send:
            self.held.append(fut)
        else:
            fut.set_result(None)
        return fut

    def release(self) -> None:
        for fut in self.held:
            fut.set_result(None)


class _Signal:
    def connect(self, fun: Callable[..., Any]) -> Callable[..., Any]:
        return fun


class _App:
    """What ``conversation.install`` and ``holes.install`` use of a Faust app."""

    def __init__(self, producer: _Producer) -> None:
        self.producer = producer
        self.conf = SimpleNamespace(producer_max_request_size=1_000_000)
        self.consumer_generation_id = 1
        self.on_partitions_assigned = self.on_before_shutdown = _Signal()
        self.agents: dict[str, Callable[[Any], Any]] = {}

    def agent(self, topic: Any, *, name: str, **_: Any) -> Callable[..., Any]:
        def register(fun: Callable[[Any], Any]) -> Callable[[Any], Any]:
            self.agents[name] = fun
            return fun
        return register

    def timer(self, **_: Any) -> Callable[..., Any]:
        return lambda fun: fun

    def Table(self, name: str, **_: Any) -> dict[str, Any]:
        return {}


class _Stream:
    """One actor's stream: events put by the test, acks recorded. ``more_fetched``: Faust
    has more for this actor, so the actor keeps its group open after an event."""

    def __init__(self, partition: int, *, more_fetched: bool = False) -> None:
        self.partition = partition
        self.source: asyncio.Queue[Any] = asyncio.Queue()
        self.channel = SimpleNamespace(queue=asyncio.Queue())
        if more_fetched:
            self.channel.queue.put_nowait("not yet handed over")
        self.acked: list[str] = []
        self.ack_seen = asyncio.Event()
        self.offsets = dict[int, int]()  # partition → next offset

    def put(self, wa_id: str, partition: int | None = None) -> None:
        ev = c.text(wa_id, "hi")
        p = self.partition if partition is None else partition
        offset = self.offsets[p] = self.offsets.get(p, -1) + 1
        msg = SimpleNamespace(topic="wa.inbound", partition=p, offset=offset)
        self.source.put_nowait(SimpleNamespace(key=wa_id.encode(), value=ev.to_bytes(),
                                               headers={}, message=msg))

    def noack(self) -> _Stream:
        return self

    async def events(self) -> AsyncIterator[Any]:
        while (ev := await self.source.get()) is not None:
            yield ev

    async def ack(self, ev: Any) -> bool:
        self.acked.append(ev.key.decode())
        self.ack_seen.set()
        return True


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], Any]:
    """``agent(isolated)``: the app, the hole guard and the conversation actor function
    that ``install()`` registered."""

    async def committed(self: holes.HoleGuard, partitions: list[int]) -> dict[int, int]:
        return dict.fromkeys(partitions, 0)  # the broker's word, without a broker

    async def fill(self: holes.HoleGuard, partition: int, start: int, end: int) -> None:
        raise AssertionError(f"no hole here, yet {partition}/{start}..{end} was read")

    monkeypatch.setattr(holes.HoleGuard, "_committed_many", committed)
    monkeypatch.setattr(holes.HoleGuard, "_fill", fill)
    # The dedupe and parked tables, as dicts (a Faust table needs a real app).
    for module in (conversation, router):
        monkeypatch.setattr(module, "owned_table", lambda *_, **__: StateTable())

    def build(isolated: bool) -> Any:
        guards: list[holes.HoleGuard] = []
        real_install = holes.install

        def keep(*args: Any, **kwargs: Any) -> holes.HoleGuard:
            guards.append(real_install(*args, **kwargs))
            return guards[-1]

        monkeypatch.setattr(holes, "install", keep)
        app = _App(_Producer())
        topic = SimpleNamespace(get_topic_name=lambda: "wa.x")
        rt = SimpleNamespace(
            app=app, opts=Options(), chat_state=StateTable(), inbound=topic, outbound=topic,
            state=topic, domain=topic, delivery=topic, recovery=topic,
            settings=Settings.from_env({"WASTREAM_ISOLATED_PARTITIONS": "1" if isolated else "0",
                                        "WASTREAM_GROUP_LINGER_MS": "600000",
                                        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}))
        proc = conversation.install(rt, Domains.load(REGISTRY), DeadlineCache())  # type: ignore[arg-type]
        return SimpleNamespace(app=app, guard=guards[0], actor=app.agents["conversation"],
                               proc=proc)

    return build


async def _acked(stream: _Stream, wa_id: str) -> None:
    while wa_id not in stream.acked:
        stream.ack_seen.clear()
        await stream.ack_seen.wait()


async def _processed(proc: Any, n: int) -> None:
    """Until the actors have handled ``n`` events (their groups may still be open)."""
    for _ in range(1000):
        if proc.processed >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{proc.processed} events handled, not {n}")


async def _stop(*actors: tuple[asyncio.Task[None], _Stream]) -> None:
    for _, stream in actors:
        stream.source.put_nowait(None)
    await asyncio.gather(*(task for task, _ in actors))


async def test_isolated_partitions_do_not_wait_for_each_others_acks(agent: Any) -> None:
    a = agent(True)
    s0, s1 = _Stream(0), _Stream(1)
    t0, t1 = (asyncio.create_task(a.actor(s)) for s in (s0, s1))
    s0.put(SLOW)
    await a.app.producer.slow_sent.wait()  # partition 0's actor now waits for its acks
    s1.put(FAST)
    try:
        # Partition 1's event is handled and settled meanwhile (the old single lock held
        # it behind partition 0's wait: it was never acked while SLOW's acks were held).
        await asyncio.wait_for(_acked(s1, FAST), timeout=10)
        assert s0.acked == []
        assert a.guard.lock_for(0).locked()
        assert not a.guard.lock_for(1).locked()
    finally:
        a.app.producer.release()
    await asyncio.wait_for(_acked(s0, SLOW), timeout=10)
    await _stop((t0, s0), (t1, s1))


async def test_the_sweep_settles_only_the_group_whose_lock_it_holds(agent: Any) -> None:
    a = agent(True)
    s0, s1 = _Stream(0, more_fetched=True), _Stream(1, more_fetched=True)
    t0, t1 = (asyncio.create_task(a.actor(s)) for s in (s0, s1))
    s0.put(SLOW)
    s1.put(FAST)
    await _processed(a.proc, 2)
    assert s0.acked == s1.acked == []  # both groups are open
    a.app.producer.release_on_send = True  # a settle, if any, completes at once
    async with a.guard.lock_for(1):  # what the sweep does before it fills partition 1
        for settle in a.guard.settlers:
            await settle(1)
    assert (s0.acked, s1.acked) == ([], [FAST])  # partition 0's group was not touched
    async with a.guard.lock_for(0):
        for settle in a.guard.settlers:
            await settle(0)
    assert s0.acked == [SLOW]
    await _stop((t0, s0), (t1, s1))


async def test_one_actor_for_all_partitions_keeps_one_lock(agent: Any) -> None:
    a = agent(False)
    assert a.guard.lock_for(0) is a.guard.lock_for(1) is a.guard.lock
    s = _Stream(0, more_fetched=True)
    task = asyncio.create_task(a.actor(s))
    s.put(FAST, partition=0)
    s.put(SLOW, partition=1)
    await _processed(a.proc, 2)
    assert s.acked == []  # one open group holding both partitions' events
    a.app.producer.release_on_send = True
    async with a.guard.lock_for(0):  # the sweep for either partition settles it all
        for settle in a.guard.settlers:
            await settle(0)
    assert s.acked == [FAST, SLOW]
    await _stop((task, s))
