"""Sender throughput with a Graph API that takes ``latency`` per request: one actor per
partition (the default) against one actor for all partitions (the baseline), measured
in the same run, on the real broker and Postgres, with the stand-in Graph API.

    .venv/bin/python bench/sender/run.py [messages] [latency_s] [partitions]

Prints the time each took and the ratio (baseline / default)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from schemas.outbound import OutboundMessage
from standins.graph import GraphStub
from tests.support import kafka as tk
from tests.support.failure import start_echo_worker, wait_until
from tests.support.system import System
from wastream.dev import stack_from_env


async def one_run(n: int, latency: float, partitions: int, isolated: bool) -> float:
    stack = stack_from_env()
    await asyncio.to_thread(stack.up)
    system = System(bootstrap=stack.kafka.bootstrap, database_url=stack.postgres.url,
                    database_owner_url=stack.postgres.owner_url, partitions=partitions)
    await asyncio.to_thread(system.create_topics)
    await asyncio.to_thread(system.migrate)
    stub = await GraphStub(latency_s=latency).start()
    try:
        system.env_overrides.update({
            "WASTREAM_ECHO_SENDER": "1", "WHATSAPP_GRAPH_URL": stub.url,
            "WHATSAPP_ACCESS_TOKEN": stub.token, "WASTREAM_SENDER_RECIPIENT_RATE": "1000",
            "WASTREAM_SENDER_RECIPIENT_BURST": "1000",
            "WASTREAM_SENDER_ISOLATED": "1" if isolated else "0"})
        # warm up: the worker is up and every partition assigned once one message per
        # partition went through
        start_echo_worker(system)
        warm = [OutboundMessage(outbound_id=f"warm{i}", wa_id=f"2507{i:08d}",
                                phone_number_id="1", body={
                                    "messaging_product": "whatsapp", "to": f"2507{i:08d}",
                                    "type": "text", "text": {"body": "w"}})
                for i in range(partitions * 4)]
        await tk.produce(system.bootstrap, system.topic("wa.outbound"),
                         [(m.wa_id.encode(), m.to_bytes()) for m in warm])
        await wait_until(lambda: len(stub.accepted) >= len(warm), 120)
        msgs = [OutboundMessage(outbound_id=f"m{i}", wa_id=f"2508{i % 200:08d}",
                                phone_number_id="1", body={
                                    "messaging_product": "whatsapp", "to": f"2508{i % 200:08d}",
                                    "type": "text", "text": {"body": f"m{i}"}})
                for i in range(n)]
        t0 = time.monotonic()
        await tk.produce(system.bootstrap, system.topic("wa.outbound"),
                         [(m.wa_id.encode(), m.to_bytes()) for m in msgs])
        done = await wait_until(lambda: len(stub.accepted) >= len(warm) + n, 600, 0.01)
        assert done, f"only {len(stub.accepted) - len(warm)} of {n} sent"
        return time.monotonic() - t0
    finally:
        await stub.stop()
        await system.teardown()


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    partitions = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    base = await one_run(n, latency, partitions, isolated=False)
    iso = await one_run(n, latency, partitions, isolated=True)
    print(f"{n} messages, Graph latency {latency * 1000:.0f} ms, {partitions} partitions")
    print(f"one actor for all partitions (baseline): {base:.2f}s ({n / base:.0f} msg/s)")
    print(f"one actor per partition: {iso:.2f}s ({n / iso:.0f} msg/s)")
    print(f"speed-up: {base / iso:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
