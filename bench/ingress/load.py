"""A bounded load generator on loopback: N connections posting pre-signed bodies."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import orjson

from tests.support.webhooks import envelope, sign


@dataclass(frozen=True)
class Result:
    """What one run measured."""

    requests: int
    ok: int
    seconds: float
    events_per_request: int
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def eps(self) -> float:
        return self.rps * self.events_per_request

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(q * len(s)))] * 1000.0


def bodies(kind: str, count: int, secret: str, tag: str) -> list[tuple[bytes, str]]:
    """``count`` distinct signed bodies: ``single`` (one text message) or ``batch50``."""
    per = 1 if kind == "single" else 50
    out = []
    for i in range(count):
        msgs = [{"from": f"2507{(i * per + j) % 5000:08d}", "id": f"wamid.{tag}.{i}.{j}",
                 "timestamp": "1700000000", "type": "text", "text": {"body": f"hello {j}"}}
                for j in range(per)]
        contacts = [{"profile": {"name": "Bench"}, "wa_id": msgs[0]["from"]}]
        raw = orjson.dumps(envelope(msgs, contacts=contacts))
        out.append((raw, sign(raw, secret)))
    return out


async def run(url: str, pool: list[tuple[bytes, str]], *, seconds: float, concurrency: int,
              events_per_request: int, max_requests: int = 200_000) -> Result:
    """Post from ``concurrency`` workers until ``seconds`` pass or ``max_requests`` are sent."""
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0}
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(w: int) -> None:
            i = w
            while time.perf_counter() < deadline and counts["sent"] < max_requests:
                counts["sent"] += 1
                raw, sig = pool[i % len(pool)]
                i += concurrency
                t0 = time.perf_counter()
                async with session.post(url, data=raw, headers={
                        "Content-Type": "application/json", "X-Hub-Signature-256": sig}) as r:
                    await r.read()
                    if r.status == 200:
                        counts["ok"] += 1
                        latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(counts["sent"], counts["ok"], elapsed, events_per_request, latencies)
