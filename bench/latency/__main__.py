"""Benchmark: the latency a user feels, from posting a webhook to the reply on wa.outbound.

    .venv/bin/python -m bench.latency [--rates 250,500,1000] [--seconds 10] [--partitions 4]

One fresh topic prefix and schema on the dev stack; the real ``wastream ingress`` and
``wastream worker`` as processes. For each rate, an open-loop generator posts signed "hi"
webhooks from distinct new users at that fixed rate (each post at its scheduled time,
whatever the answers before it did). A user's latency is the broker timestamp of the first
reply keyed by that user on ``wa.outbound`` (CreateTime, stamped by the worker's producer)
minus the wall-clock time its webhook was posted.

The floor, measured in the same run at the same rate with the worker stopped: a bare
aiokafka hop that consumes ``wa.inbound`` and produces each record at once (acks=all) to
an echo topic. It pays what every reply must (the ingress, the broker's acks, a consume
and a produce) and nothing of the conversation. Printed per rate: p50, p99 and max of
both, and the worker's p50 and p99 over the floor's.

Regime: an open-loop load at a fixed rate, far below capacity at low rates; the load
generator, the ingress, the worker and the broker share this machine's two cores, so the
generator's own CPU is in every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.support.system import APP_SECRET, System
from tests.support.webhooks import sign, text_message_body
from wastream.config import Settings
from wastream.config.groups import KafkaSettings
from wastream.config.kafka import client_args
from wastream.dev import stack_from_env


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


async def _at_end(kafka: KafkaSettings, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of ``topic``, positioned at its end now."""
    consumer = AIOKafkaConsumer(**client_args(kafka), enable_auto_commit=False)
    await consumer.start()
    parts = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
    consumer.assign(parts)
    await consumer.seek_to_end(*parts)
    for tp in parts:  # resolve the end now, before the load starts
        await consumer.position(tp)
    return consumer


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return set(parts)
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise SystemExit(f"topic {topic} has no partitions")


async def _first_record_times(consumer: AIOKafkaConsumer, want: set[str],
                              timeout_s: float) -> dict[str, float]:
    """The broker timestamp (s) of the first record keyed by each user of ``want``."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    while len(seen) < len(want) and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for recs in batch.values():
            for r in recs:
                key = r.key.decode() if r.key else ""
                if key in want and key not in seen:
                    seen[key] = r.timestamp / 1000
    return seen


async def _post_at_rate(url: str, users: list[str], rate: float) -> dict[str, float]:
    """Post a signed "hi" from each user, the i-th at start + i / rate; returns post times."""
    posted: dict[str, float] = {}
    failures = 0
    bodies = [(u, text_message_body(u, "hi")) for u in users]
    conn = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def post(user: str, body: bytes) -> None:
            nonlocal failures
            hdrs = {"Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(body, APP_SECRET)}
            posted[user] = time.time()
            async with session.post(url, data=body, headers=hdrs) as r:
                await r.read()
                if r.status != 200:
                    failures += 1

        start = time.monotonic()
        tasks = []
        for i, (user, body) in enumerate(bodies):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(user, body)))
        await asyncio.gather(*tasks)
    if failures:
        print(f"  {failures} posts were not answered 200")
    return posted


async def _echo(kafka: KafkaSettings, src: str, dst: str, stop: asyncio.Event) -> None:
    """The floor's hop: consume ``src`` and produce each record to ``dst`` at once."""
    consumer = AIOKafkaConsumer(src, **client_args(kafka), group_id=f"{dst}.echo",
                                auto_offset_reset="latest", enable_auto_commit=True)
    producer = AIOKafkaProducer(**client_args(kafka), acks="all",
                                enable_idempotence=True, linger_ms=0)
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            futs = [await producer.send(dst, key=r.key, value=r.value)
                    for recs in batch.values() for r in recs]
            if futs:
                await asyncio.gather(*futs)
    finally:
        await consumer.stop()
        await producer.stop()


async def _phase(system: System, kafka: KafkaSettings, topic: str, users: list[str],
                 rate: float,
                 run: Callable[[], Awaitable[Any]] | None = None) -> list[float]:
    consumer = await _at_end(kafka, topic)
    try:
        posted = await _post_at_rate(system.webhook_url, users, rate)
        got = await _first_record_times(consumer, set(users), timeout_s=60)
    finally:
        await consumer.stop()
    if len(got) < len(users):
        print(f"  only {len(got)} of {len(users)} users got a record on {topic} within 60 s")
    return [(got[u] - posted[u]) * 1000 for u in users if u in got]


def _line(label: str, xs: list[float]) -> str:
    return (f"{label:<10} n={len(xs):>6}  p50 {_pct(xs, .5):8.1f} ms  p99 {_pct(xs, .99):8.1f} ms"
            f"  max {max(xs, default=float('nan')):8.1f} ms")


async def main_async(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    system = System(bootstrap=settings.kafka_bootstrap_servers,
                    database_url=settings.database_url,
                    database_owner_url=settings.database.owner_url
                    or stack_from_env().postgres.owner_url, partitions=args.partitions)
    echo_topic = system.topic("bench.echo")
    try:
        system.create_topics()
        system.migrate()
        admin = AIOKafkaAdminClient(**client_args(settings.kafka))
        await admin.start()
        try:
            await admin.create_topics([NewTopic(echo_topic, args.partitions, 1)])
        finally:
            await admin.close()
        system.start_ingress()
        results: list[tuple[float, list[float], list[float]]] = []
        for rate in args.rates:
            n = int(rate * args.seconds)
            tag = f"{int(rate)}"
            # the floor: the worker is not running, a bare hop answers instead
            stop = asyncio.Event()
            echo = asyncio.create_task(_echo(settings.kafka, system.topic("wa.inbound"),
                                             echo_topic, stop))
            await asyncio.sleep(3)  # the echo's group has joined
            try:
                floor = await _phase(system, settings.kafka, echo_topic,
                                     [f"2508{tag}{i:07d}" for i in range(n)], rate)
            finally:
                stop.set()
                await echo
            # the worker
            worker = system.start_worker()
            warm = [f"2509{tag}w{i:05d}" for i in range(20)]
            # joined and warm
            await _phase(system, settings.kafka, system.topic("wa.outbound"), warm, 10)
            lat = await _phase(system, settings.kafka, system.topic("wa.outbound"),
                               [f"2509{tag}{i:07d}" for i in range(n)], rate)
            worker.stop()
            system.services.remove(worker)
            results.append((rate, floor, lat))
            print(f"rate {rate:.0f}/s, {n} users")
            print("  " + _line("floor", floor))
            print("  " + _line("worker", lat))
        print("\nsummary (open loop, generator on the same cores; floor = ingress + a bare "
              "consume/produce hop)")
        print(f"{'rate/s':>7} {'p50':>9} {'p99':>9} {'max':>9} {'floor p50':>10} "
              f"{'floor p99':>10} {'p50/floor':>10} {'p99/floor':>10}")
        for rate, floor, lat in results:
            f50, f99 = _pct(floor, .5), _pct(floor, .99)
            l50, l99 = _pct(lat, .5), _pct(lat, .99)
            print(f"{rate:>7.0f} {l50:>8.1f}ms {l99:>8.1f}ms {max(lat, default=0):>8.1f}ms "
                  f"{f50:>9.1f}ms {f99:>9.1f}ms {l50 / f50:>10.2f} {l99 / f99:>10.2f}")
    finally:
        with contextlib.suppress(Exception):
            await system.teardown()
    return 0


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.latency")
    p.add_argument("--rates", default="250,500,1000",
                   type=lambda s: [float(x) for x in s.split(",")])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--partitions", type=int, default=4)
    return asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
