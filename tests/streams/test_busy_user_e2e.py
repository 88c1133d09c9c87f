"""One busy user must not take the worker down (issue 10, item 1). Through the real
ingress and worker: one user sends 2,000 text messages and 20,000 delivery statuses
(distinct wamids) arrive for them, in signed webhooks of many updates each. Every
changelog record of the app stays small (no table record grows with one user's history
or backlog), the broker refuses nothing, and another user is answered meanwhile."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas import headers as h
from schemas import topics
from tests.support.system import Service, System
from tests.support.webhooks import envelope

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUSY = "250788700001"
# Two others: one on the busy user's partition of wa.inbound/wa.outbound, one on the
# other partition (murmur2 with the test's 2 partitions).
OTHERS = ("250788700004", "250788700002")
MESSAGES = 2_000
STATUSES = 20_000
LIMIT = 64 * 1024  # the largest changelog record allowed (key + value)


def _messages(first: int, n: int) -> bytes:
    ts = str(int(time.time()))
    msgs = [{"from": BUSY, "id": f"wamid.BUSY.{i}", "timestamp": ts, "type": "text",
             "text": {"body": f"hello {i}"}} for i in range(first, first + n)]
    return orjson.dumps(envelope(msgs, contacts=[{"profile": {"name": "Busy"}, "wa_id": BUSY}]))


def _statuses(first: int, n: int) -> bytes:
    ts = str(int(time.time()))
    sts = [{"id": f"wamid.OUT.{i}", "status": "delivered", "timestamp": ts,
            "recipient_id": BUSY} for i in range(first, first + n)]
    return orjson.dumps(envelope([], statuses=sts))


def _hi(wa_id: str) -> bytes:
    return orjson.dumps(envelope(
        [{"from": wa_id, "id": f"wamid.{wa_id}.hi", "timestamp": str(int(time.time())),
          "type": "text", "text": {"body": "hi"}}],
        contacts=[{"profile": {"name": "Other"}, "wa_id": wa_id}]))


async def _post(system: System, body: bytes) -> None:
    status, answer = await system.post_webhook(body)
    assert status == 200, answer


async def _reply_to(system: System, topic: str, field: str, value: str,
                    timeout_s: float) -> dict[str, Any] | None:
    """The first record of ``topic`` whose JSON ``field`` is ``value`` (None on timeout)."""
    consumer = AIOKafkaConsumer(system.topic(topic), bootstrap_servers=system.bootstrap,
                                group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for recs in batch.values():
                for r in recs:
                    d = orjson.loads(r.value or b"{}")
                    if d.get(field) == value:
                        return dict(d)
        return None
    finally:
        await consumer.stop()


async def _lag(system: System, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer,
               logical: str, group: str) -> int:
    topic = system.topic(logical)
    tps = [TopicPartition(topic, p) for p in range(system.partitions)]
    ends = await consumer.end_offsets(tps)
    done = await admin.list_consumer_group_offsets(group, partitions=tps)
    return sum(ends[tp] - max(done[tp].offset, 0) if tp in done else ends[tp] for tp in tps)


async def _wait_caught_up(system: System, worker: Service, timeout_s: float) -> int:
    """Wait until the worker has committed every record of wa.inbound and wa.outbound
    (or has died); return the lag left (0 when caught up)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=system.bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=system.bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        deadline, lag = time.monotonic() + timeout_s, -1
        group = f"{system.prefix}wastream"
        while time.monotonic() < deadline and worker.alive():
            lag = (await _lag(system, admin, consumer, topics.INBOUND, group)
                   + await _lag(system, admin, consumer, topics.OUTBOUND, group))
            if lag == 0:
                return 0
            await asyncio.sleep(1)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def _changelog_sizes(system: System) -> dict[str, tuple[int, int]]:
    """Changelog topic → (records, largest key + value in bytes), every record read."""
    admin = AIOKafkaAdminClient(bootstrap_servers=system.bootstrap)
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics()
                       if t.startswith(system.prefix) and t.endswith("-changelog"))
    finally:
        await admin.close()
    out: dict[str, tuple[int, int]] = {}
    for name in names:
        out[name.removeprefix(system.prefix)] = await _sizes(system.bootstrap, name)
    return out


async def _sizes(bootstrap: str, topic: str) -> tuple[int, int]:
    """(records, largest key + value) of a topic, read from its start to its end."""
    records = await _read_all(bootstrap, topic)
    return len(records), max((len(r.key or b"") + len(r.value or b"") for r in records),
                             default=0)


async def _read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of a topic (aiokafka's ConsumerRecord), from its start to its end now."""
    # A consumer of its own: once assigned, a consumer fetches metadata for its assigned
    # topics only, so it would never learn another topic's partitions.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                max_partition_fetch_bytes=4 * 1024 * 1024,
                                fetch_max_bytes=16 * 1024 * 1024)
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic)
        while not parts:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[Any] = []
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000, max_records=5000)
            for tp, recs in batch.items():
                out.extend(r for r in recs if r.offset < ends[tp])
                if recs and recs[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
        return out
    finally:
        await consumer.stop()


async def test_one_busy_user_keeps_every_record_small_and_others_are_served(
        system: System) -> None:
    # One of the busy user's messages fails once: their conversation is parked behind it
    # (in retry for 1 s) while the flood comes in, then released; the sender parks their
    # replies behind its per-recipient pacing. Both parked tables hold a backlog.
    system.env_overrides["WASTREAM_FAULTS"] = orjson.dumps(
        [{"match": '"hello 10"', "kind": "transient", "attempts": 1}]).decode()
    system.start_ingress()
    worker = system.start_worker()
    await _post(system, _messages(0, 1))  # the worker is up and has joined once this is answered
    assert await _reply_to(system, topics.OUTBOUND, "in_reply_to", "wamid.BUSY.0", 90), \
        worker.tail()

    per_body = 100
    for first in range(1, MESSAGES, per_body):
        await _post(system, _messages(first, min(per_body, MESSAGES - first)))
        s = (first // per_body) * (STATUSES // (MESSAGES // per_body))
        for at in range(s, s + STATUSES // (MESSAGES // per_body), 250):
            await _post(system, _statuses(at, 250))
        if first == MESSAGES // 2 + 1:  # half-way through the flood, the others say hi
            asked = time.monotonic()
            answers = []
            for other in OTHERS:
                await _post(system, _hi(other))
                answers.append(asyncio.ensure_future(
                    _reply_to(system, topics.OUTBOUND, "in_reply_to", f"wamid.{other}.hi", 60)))

    for other, answered in zip(OTHERS, answers, strict=True):
        reply = await answered
        assert reply is not None, f"{other} got no reply within 60 s:\n{worker.tail()}"
        assert reply["wa_id"] == other
        # ... and the sender sent it (dry run), though it holds the busy user's backlog
        sent = await _reply_to(system, topics.DELIVERY, "outbound_id", reply["outbound_id"],
                               max(5.0, 60 - (time.monotonic() - asked)))
        assert sent is not None, f"{other}'s reply was not sent:\n{worker.tail()}"
        assert sent["status"] == "accepted", sent

    lag = await _wait_caught_up(system, worker, 150)
    sizes = await _changelog_sizes(system)
    print({name: f"{n} records, largest {size} B" for name, (n, size) in sizes.items()})
    assert worker.alive(), worker.tail()
    assert lag == 0, f"the worker is {lag} records behind:\n{worker.tail()}"
    log = worker.log.read_text(errors="replace")
    assert "MessageSizeTooLargeError" not in log, worker.tail(200)
    # every table of the app has written to its changelog (the test reads them all)
    assert {"wastream-chat_state-changelog", "wastream-chat_seen-changelog",
            "wastream-inbound-parked-changelog", "wastream-outbound-parked-changelog"} \
        <= set(sizes), sizes
    assert sizes["wastream-inbound-parked-changelog"][0] > 1000, sizes
    assert sizes["wastream-outbound-parked-changelog"][0] > 1000, sizes
    too_big = {name: size for name, (_, size) in sizes.items() if size >= LIMIT}
    assert too_big == {}, sizes

    # Nothing of the busy user's is lost silently: each message is answered, or was
    # dead-lettered because WASTREAM_PARKED_MAX (10,000) of their events were already
    # parked behind the one in retry (the flood's statuses count too).
    answered = {orjson.loads(r.value or b"{}").get("in_reply_to")
                for r in await _read_all(system.bootstrap, system.topic(topics.OUTBOUND))}
    overflow = {orjson.loads(r.value or b"{}").get("event_id")
                for r in await _read_all(system.bootstrap, system.topic(topics.DLQ))
                if dict(r.headers).get(h.ERROR_CLASS)
                == b"streams.failure.errors.ParkedOverflow"}
    messages = {f"wamid.BUSY.{i}" for i in range(MESSAGES)}
    assert messages - answered - overflow == set(), sorted(messages - answered - overflow)[:10]
    print(f"busy user: {len(messages & answered)} messages answered, "
          f"{len(overflow)} events dead-lettered past the cap")
