"""Run the ingress benchmark: ``.venv/bin/python -m bench.ingress``.

(a) bare aiohttp, (b) the full ``wastream ingress`` against the real broker, (c) the
seed-style synchronous Postgres INSERT per event; single-message and 50-update bodies;
each server in its own process, all on loopback. Prints requests/s, events/s, p50/p99
and the ratios b/a and b/c.

The load generator is ``wrk`` when installed (``make bench`` installs it), else the
Python generator of ``load.py``; the same one, at the same concurrency, for a, b and c.
The Python one is slower than the bare server (≈2,100 vs ≈8,600 requests/s on the
2-core dev box), which squeezes every ratio towards 1: prefer wrk.

Every round posts bodies with fresh message ids (warm-up included): the seed baseline
keys ``wa_events`` on the event id, and a repeated id would make its INSERT a no-op.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import asyncpg

from bench.ingress import wrk
from bench.ingress.load import Result, bodies, run
from wastream.admin import delete_prefixed, ensure_topics
from wastream.config import Settings

REPO = Path(__file__).resolve().parents[2]
SECRET = "bench-secret"  # noqa: S105 - a local benchmark's HMAC key
LOGS = REPO / ".wastream" / "bench-logs"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {LOGS}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except urllib.error.HTTPError:
            return  # it answers (405 on GET /webhook for the bare server)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} not up after {timeout_s}s")


def _start(name: str, args: list[str], env: dict[str, str], probe: str) -> subprocess.Popen[bytes]:
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
    _wait_up(probe, proc)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _line(label: str, r: Result, cpu_us: float | None = None) -> str:
    cpu = f"   cpu {cpu_us:5.0f} us/req" if cpu_us is not None else ""
    return (f"  {label:<52} {r.rps:>9.0f} req/s {r.eps:>10.0f} ev/s   p50 {r.p50_ms:7.2f} ms"
            f"   p99 {r.p99_ms:7.2f} ms{cpu}   ({r.ok}/{r.requests} ok in {r.seconds:.1f}s)")


# Bodies per measured second in a pool: above what the seed baseline reaches, so that
# its run never wraps around to ids it already stored (a warning says so if it does).
_POOL_RATE = {"single": 5000, "batch50": 400}
_PER = {"single": 1, "batch50": 50}


class _Load:
    """One round's bodies for one kind, served by the chosen generator."""

    def __init__(self, generator: str, kind: str, count: int, tag: str) -> None:
        self.kind, self.per = kind, _PER[kind]
        self.bodies = bodies(kind, count, SECRET, tag)
        self.pool = wrk.Pool(self.bodies) if generator == "wrk" else None

    async def run(self, url: str, seconds: float, concurrency: int) -> Result:
        if self.pool is not None:
            return await wrk.run(url, self.pool, seconds=seconds, concurrency=concurrency,
                                 events_per_request=self.per)
        return await run(url, self.bodies, seconds=seconds, concurrency=concurrency,
                         events_per_request=self.per)

    @property
    def size(self) -> int:
        return len(self.bodies)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


async def _main(seconds: float, concurrency: int, rounds: int, generator: str,
                with_floor: bool) -> int:
    settings = Settings.from_env()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    schema = prefix.rstrip(".")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTREAM_")}
    env.update({"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                "DATABASE_URL": settings.database_url, "WASTREAM_TOPIC_PREFIX": prefix,
                "WHATSAPP_APP_SECRET": SECRET, "BENCH_SCHEMA": schema,
                "WASTREAM_PARTITIONS": "4"})
    bench_settings = Settings.from_env(env)
    await ensure_topics(bench_settings)
    conn = await asyncpg.connect(settings.database_url)
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    await conn.close()
    servers = {
        "a": ("(a) bare aiohttp 200", ["-m", "bench.ingress.servers", "bare"]),
        "b": ("(b) wastream ingress (Kafka acks)", ["-m", "wastream.cli", "ingress"]),
        "c": ("(c) seed: INSERT per event", ["-m", "bench.ingress.servers", "seed"]),
    }
    if with_floor:
        servers["f"] = ("(floor) aiohttp + acked produce of raw body",
                        ["-m", "bench.ingress.servers", "floor"])
        servers["g"] = ("(floor2) floor + one wa.inbound record",
                        ["-m", "bench.ingress.servers", "floor2"])
    runs: dict[tuple[str, str], list[Result]] = {}
    # CPU of the server's own process per request: steadier than requests/s when the
    # machine is shared (it leaves out the broker's and PostgreSQL's CPU).
    cpu: dict[tuple[str, str], list[float]] = {}
    try:
        # Rounds alternate the servers so that a burst of load from elsewhere on the
        # machine hits all of them alike; the best round of each is reported.
        for rnd in range(1, rounds + 1):
            for key, (label, args) in servers.items():
                port = _free_port()
                probe = (f"http://127.0.0.1:{port}/readyz" if key in ("b", "f", "g")
                         else f"http://127.0.0.1:{port}/webhook")
                proc = _start(key, [*args, "--port", str(port)], env, probe)
                try:
                    url = f"http://127.0.0.1:{port}/webhook"
                    for kind in ("single", "batch50"):
                        tag = uuid.uuid4().hex[:8]
                        warm = _Load(generator, kind, max(200, _POOL_RATE[kind]), f"w{tag}")
                        load = _Load(generator, kind,
                                     max(400, int(_POOL_RATE[kind] * seconds)), f"m{tag}")
                        try:
                            await warm.run(url, 1.0, concurrency)
                            cpu0 = _cpu_seconds(proc.pid)
                            r = await load.run(url, seconds, concurrency)
                            cpu1 = _cpu_seconds(proc.pid)
                        finally:
                            warm.close()
                            load.close()
                        runs.setdefault((key, kind), []).append(r)
                        cpu_us = None
                        if cpu0 is not None and cpu1 is not None and r.requests:
                            cpu_us = (cpu1 - cpu0) * 1e6 / r.requests
                            cpu.setdefault((key, kind), []).append(cpu_us)
                        print(_line(f"round {rnd} {label} [{kind}]", r, cpu_us), flush=True)
                        if key == "c" and r.requests > load.size:
                            print(f"    note: {r.requests} requests from a pool of {load.size} "
                                  "bodies: ids repeated (flatters the seed baseline)",
                                  flush=True)
                finally:
                    _stop(proc)
    finally:
        await delete_prefixed(settings.kafka_bootstrap_servers, prefix)
        conn = await asyncpg.connect(settings.database_url)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
    results = {k: max(v, key=lambda r: r.rps) for k, v in runs.items()}
    print("\nbest round of each:")
    for (key, kind), r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(_line(f"{servers[key][0]} [{kind}]", r))
    print()
    for kind in ("single", "batch50"):
        a, b, c = (results[(k, kind)] for k in "abc")
        if ("a", kind) in cpu and ("b", kind) in cpu:
            print(f"  [{kind}] server-process CPU per request, lowest round: "
                  + "   ".join(f"{k} {min(cpu[(k, kind)]):.0f} us" for k in servers
                               if (k, kind) in cpu)
                  + f"   (a/b = {min(cpu[('a', kind)]) / min(cpu[('b', kind)]):.2f})")
        print(f"  [{kind}] b/a requests/s = {b.rps / a.rps:.2f}   "
              f"b/c requests/s = {b.rps / c.rps:.2f}   "
              f"b/c events/s = {b.eps / c.eps:.2f}   "
              f"p50 b {b.p50_ms:.2f} ms vs c {c.p50_ms:.2f} ms")
        if with_floor:
            f, g = results[("f", kind)], results[("g", kind)]
            print(f"  [{kind}] floor/a requests/s = {f.rps / a.rps:.2f}   "
                  f"floor2/a = {g.rps / a.rps:.2f}   b/floor = {b.rps / f.rps:.2f}   "
                  f"b/floor2 = {b.rps / g.rps:.2f}")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ingress")
    p.add_argument("--seconds", type=float, default=5.0, help="measured seconds per run")
    p.add_argument("--concurrency", type=int, default=32, help="concurrent connections")
    p.add_argument("--rounds", type=int, default=2, help="rounds over the three servers")
    p.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto",
                   help="load generator: wrk (install: apt-get install -y wrk), the Python "
                        "fallback, or auto (wrk when installed)")
    p.add_argument("--with-floor", action="store_true",
                   help="also measure two diagnostic servers: aiohttp + the ingress's Kafka "
                        "sink producing the raw body alone (floor), and the raw body plus one "
                        "wa.inbound record (floor2: the records of a single-message body)")
    args = p.parse_args()
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if wrk.path() else "python"
    if generator == "wrk" and wrk.path() is None:
        p.error("wrk is not installed: apt-get install -y wrk (or --generator python)")
    print(f"ingress benchmark: {args.seconds:.0f}s per run, {args.concurrency} connections, "
          f"loopback, servers in their own processes (logs in {LOGS})", flush=True)
    if generator == "python":
        print("load generator: Python (aiohttp client). WARNING: on a small machine it is "
              "slower than the bare server, so ratios are squeezed towards 1; install wrk "
              "(apt-get install -y wrk) for meaningful numbers", flush=True)
    else:
        print(f"load generator: wrk ({wrk.path()}), 1 thread", flush=True)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    return asyncio.run(_main(args.seconds, args.concurrency, args.rounds, generator,
                             args.with_floor))


if __name__ == "__main__":
    sys.exit(main())
