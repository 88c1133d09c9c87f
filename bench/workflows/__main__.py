"""Benchmark: events/s through the conversation agent vs a raw aiokafka passthrough.

    .venv/bin/python -m bench.workflows [--conversations 10000]
        [--modes wait,wait+isolated,buffered,buffered+isolated]

One run, one fresh topic prefix on the dev broker. The same records (mixed flows:
nearby drivers, nearby passengers, schedule a trip, language; 4 events per
conversation) are written to ``wa.inbound``; then

1. baseline: an aiokafka consumer (own group) reads them and produces every record
   to another topic (acks=all, one flush per fetched batch, commit per batch);
2. the Faust floor (bench/workflows/floor.py): a bare Faust agent that forwards every
   record and does nothing else, i.e. Faust's own per-event cost;
3. the conversation agent: a real ``wastream worker`` (only the conversation agent)
   reads them and writes replies, transitions and domain events.

Rates are events / (last output timestamp - first output timestamp), so start-up and
rebalance time are excluded on both sides. Peak RSS is the worker's VmHWM. Prints the
ratios agent / passthrough and agent / Faust floor for each mode: WASTREAM_OUTPUT_ACKS
(wait: each group waits for the broker's acks, the default; buffered: it does not, see
streams/agent/conversation.py), "+isolated" = WASTREAM_ISOLATED_PARTITIONS=1 (one actor
per partition). By default the two safe modes, one actor and isolated partitions, then a
summary of their ratios to the Faust floor (one actor forwarding every partition).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas import topics
from schemas.envelope import InboundEvent
from tests.support import conversations as c
from wastream.admin import delete_prefixed, ensure_topics
from wastream.config import Settings
from wastream.config.kafka import client_args

REPO = Path(__file__).resolve().parents[2]
KIGALI = (-1.9441, 30.0619)


def records(n_conv: int) -> list[InboundEvent]:
    """4 events per conversation, interleaved across conversations (per-user order kept)."""
    scripts = []
    for i in range(n_conv):
        u = f"2507{i:08d}"
        lat, lon = KIGALI[0] + (i % 100) * 0.001, KIGALI[1] + (i // 100 % 100) * 0.001
        kind = i % 4
        if kind == 0:
            s = [
                c.text(u, "hi"),
                c.pick(u, "menu:rides_drivers"),
                c.pick(u, "vehicle:moto"),
                c.location(u, lat, lon),
            ]
        elif kind == 1:
            s = [
                c.text(u, "hi"),
                c.pick(u, "menu:rides_passengers"),
                c.pick(u, "vehicle:cab"),
                c.location(u, lat, lon),
            ]
        elif kind == 2:
            s = [
                c.text(u, "hello"),
                c.pick(u, "menu:rides_schedule"),
                c.button(u, "sched:new"),
                c.location(u, lat, lon),
            ]
        else:
            s = [
                c.text(u, "hi"),
                c.pick(u, "menu:language"),
                c.button(u, "lang:fr"),
                c.text(u, "banana"),
            ]
        scripts.append(s)
    return [s[step] for step in range(4) for s in scripts]


async def produce_all(connection: dict[str, Any], topic: str, evs: list[InboundEvent]) -> None:
    p = AIOKafkaProducer(
        **connection,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    await p.start()
    try:
        futs = [await p.send(topic, key=e.key, value=e.to_bytes()) for e in evs]
        await asyncio.gather(*futs)
    finally:
        await p.stop()


async def out_span(
    connection: dict[str, Any], topic: str, min_count: int, timeout_s: float
) -> tuple[int, float]:
    """(records, seconds between the first and the last record's timestamp) once at
    least ``min_count`` records are in ``topic`` and no more arrive for 3 s."""
    cons = AIOKafkaConsumer(
        **connection,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await cons.start()
    try:
        parts = cons.partitions_for_topic(topic) or set()
        while not parts:
            await cons._client.force_metadata_update()
            parts = cons.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        deadline = time.monotonic() + timeout_s
        last_count, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            ends = await cons.end_offsets(tps)
            count = sum(ends.values())
            if count != last_count:
                last_count, quiet_since = count, time.monotonic()
            elif count >= min_count and time.monotonic() - quiet_since > 3:
                break
            await asyncio.sleep(0.5)
        cons.assign(tps)
        await cons.seek_to_beginning(*tps)
        first, last, n = float("inf"), 0.0, 0
        while n < last_count:
            batch = await cons.getmany(timeout_ms=1000, max_records=10000)
            if not batch:
                break
            for msgs in batch.values():
                for m in msgs:
                    n += 1
                    first, last = min(first, m.timestamp), max(last, m.timestamp)
        return n, (last - first) / 1000.0
    finally:
        await cons.stop()


async def passthrough(connection: dict[str, Any], src: str, dst: str, n: int) -> float:
    """Raw consume-then-produce of ``n`` records; returns records/s."""
    cons = AIOKafkaConsumer(
        src,
        **connection,
        group_id=f"bench-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    prod = AIOKafkaProducer(**connection, acks="all", enable_idempotence=True)
    await cons.start()
    await prod.start()
    try:
        done = 0
        while done < n:
            batch = await cons.getmany(timeout_ms=1000, max_records=2000)
            futs = []
            for msgs in batch.values():
                for m in msgs:
                    futs.append(await prod.send(dst, key=m.key, value=m.value))
            await asyncio.gather(*futs)
            await cons.commit()
            done += len(futs)
    finally:
        await cons.stop()
        await prod.stop()
    count, span = await out_span(connection, dst, n, 60)
    return count / span if span > 0 else float("inf")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_agent(
    env: dict[str, str],
    settings: Settings,
    n_events: int,
    timeout_s: float,
    cmd: str = "-m bench.workflows.worker",
) -> tuple[float, float, int]:
    """Run the worker on wa.inbound; return (events/s, peak RSS MB, wa.state records)."""
    log = Path(tempfile.gettempdir()) / f"bench-workflows-{settings.topic_prefix}log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited
            [
                sys.executable,
                *(os.environ.get("BENCH_WORKER_CMD", cmd).split()),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    try:
        # Every event causes exactly one wa.state record except the 4th "banana" (a miss
        # changes nothing visible) in 1 of 4 conversations: wait for that many.
        expect_states = n_events - n_events // 16
        states, span = await out_span(
            client_args(settings.kafka), settings.topic(topics.STATE), expect_states, timeout_s
        )
        rss = peak_rss_mb(proc.pid)
        rate = n_events / span if span > 0 else float("inf")
        if states < expect_states:
            print(f"  ! only {states}/{expect_states} wa.state records; worker log: {log}")
        return rate, rss, states
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


_LABELS = {"wait": "one actor (waits for acks)",
           "wait+isolated": "isolated partitions (waits for acks)"}


async def main(n_conv: int, modes: list[str], timeout_s: float) -> int:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("WASTREAM_")}
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    base_env.update(
        {
            "WASTREAM_TOPIC_PREFIX": prefix,
            "WASTREAM_PARTITIONS": "4",
            "WASTREAM_HOME": str(REPO / ".wastream"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    settings = Settings.from_env(base_env)
    await ensure_topics(settings)
    admin_extra = f"{prefix}passthrough"
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(**client_args(settings.kafka))
    await admin.start()
    await admin.create_topics([NewTopic(admin_extra, settings.partitions, 1)])
    await admin.close()
    try:
        evs = records(n_conv)
        print(f"{n_conv} conversations, {len(evs)} events, {settings.partitions} partitions")
        await produce_all(client_args(settings.kafka), settings.topic(topics.INBOUND), evs)
        base = await passthrough(
            client_args(settings.kafka), settings.topic(topics.INBOUND), admin_extra, len(evs)
        )
        print(f"passthrough (aiokafka consume→produce): {base:,.0f} events/s")
        floor = 0.0
        to_floor: dict[str, float] = {}
        for i, mode in enumerate(["faust-floor", *modes]):
            acks, _, extra = mode.partition("+")
            if mode == "faust-floor":
                acks = "wait"  # the floor forwards records itself; the setting is unused
            env = dict(
                base_env,
                WASTREAM_OUTPUT_ACKS=acks,
                WASTREAM_ISOLATED_PARTITIONS="1" if extra == "isolated" else "0",
                WASTREAM_TOPIC_PREFIX=prefix,
                WASTREAM_WORKER_ID=f"bench{i}",
            )
            if i:  # a fresh app id (consumer group, tables) on the same records
                env["WASTREAM_TOPIC_PREFIX"] = f"{prefix}m{i}."
                s2 = Settings.from_env(env)
                await ensure_topics(s2)
                await produce_all(client_args(s2.kafka), s2.topic(topics.INBOUND), evs)
            cmd = f"-m bench.workflows.{'floor' if mode == 'faust-floor' else 'worker'}"
            rate, rss, states = await run_agent(
                env, Settings.from_env(env), len(evs), timeout_s, cmd
            )
            if mode == "faust-floor":
                floor = rate
                print(
                    f"Faust floor (bare Faust agent, forward only): {rate:,.0f} events/s, "
                    f"ratio {rate / base:.3f} of passthrough ({rate / base:.1%})"
                )
                continue
            to_floor[mode] = rate / floor
            print(
                f"conversation agent, {mode}: {rate:,.0f} events/s, "
                f"ratio {rate / base:.3f} of passthrough ({rate / base:.1%}), "
                f"{rate / floor:.2f} of the Faust floor, "
                f"worker peak RSS {rss:.0f} MB, {states} wa.state records"
            )
        print(f"conversation agent / Faust floor ({len(evs)} events, {settings.partitions} "
              "partitions): " + ", ".join(f"{_LABELS.get(m, m)} {r:.2f}"
                                          for m, r in to_floor.items()))
    finally:
        await delete_prefixed(settings.kafka_bootstrap_servers, prefix,
                              client_args(settings.kafka))
        for d in (REPO / ".wastream" / "faust").glob(f"{prefix}*"):
            shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.workflows")
    ap.add_argument("--conversations", type=int, default=10_000)
    ap.add_argument(
        "--modes",
        default="wait,wait+isolated",
        help="comma separated: wait | buffered (WASTREAM_OUTPUT_ACKS), optionally +isolated",
    )
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per agent run")
    a = ap.parse_args()
    sys.exit(asyncio.run(main(a.conversations, a.modes.split(","), a.timeout)))
