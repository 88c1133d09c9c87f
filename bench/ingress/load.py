"""The Python load generator (the fallback when ``wrk`` is not installed) and what a run
measured. N aiohttp client connections post pre-signed bodies on loopback.

On a 2-core machine this generator is itself the limit: it spends more CPU per request
than the bare server it measures (it topped out near 2,100 requests/s against the bare
handler, which answers wrk 4x faster), so every ratio it yields is compressed towards 1.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import orjson

from tests.support.webhooks import envelope, sign


@dataclass(frozen=True)
class Result:
    """What one run measured (latencies of every answer, in ms)."""

    requests: int
    ok: int
    seconds: float
    events_per_request: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def eps(self) -> float:
        return self.rps * self.events_per_request


def bodies(kind: str, count: int, secret: str, tag: str) -> list[tuple[bytes, str]]:
    """``count`` distinct signed bodies: ``single`` (one text message) or ``batch50``.

    Message ids embed ``tag``: bodies of different runs never share an event id (the
    seed baseline's ``ON CONFLICT DO NOTHING`` on a repeat writes nothing, and a commit
    that wrote nothing skips the WAL flush, which would flatter it)."""
    per = 1 if kind == "single" else 50
    now = str(int(time.time()))  # older than the dedupe window would be dropped unproduced
    out = []
    for i in range(count):
        msgs = [{"from": f"2507{(i * per + j) % 5000:08d}", "id": f"wamid.{tag}.{i}.{j}",
                 "timestamp": now, "type": "text", "text": {"body": f"hello {j}"}}
                for j in range(per)]
        contacts = [{"profile": {"name": "Bench"}, "wa_id": msgs[0]["from"]}]
        raw = orjson.dumps(envelope(msgs, contacts=contacts))
        out.append((raw, sign(raw, secret)))
    return out


def _pct(latencies: list[float], q: float) -> float:
    if not latencies:
        return float("nan")
    s = sorted(latencies)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000.0


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
                    latencies.append(time.perf_counter() - t0)
                    if r.status == 200:
                        counts["ok"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(counts["sent"], counts["ok"], elapsed, events_per_request,
                  _pct(latencies, 0.5), _pct(latencies, 0.99))
