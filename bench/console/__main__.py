"""Console page times at scale: 100,000 conversations and 1,000,000 events.

Fills a schema of its own (migrated like any other) with COPY: 100,000 ``chat_state``
rows, 1,000,000 ``wa_events`` (text messages over the last 14 days, a share of them in
the last hour so that the overview's charts have something to count), and, in
proportion, replies with delivery statuses, transitions, domain events and dead
letters. Then serves the console in this process and times every page server-side
(a middleware around the handler: query, render, no network), ``--rounds`` times each,
and prints p50 and p99 per page against the issue's goal of 300 ms. The overview and
the funnels page render readings taken in the background (every 5 s and every 5 minutes)
and shared by every browser: the time of those readings is printed on its own line. The analytics
key is the schema's own; no topic is needed (the health reader's failures to reach
an ingress are only shown on the page).

Run: ``.venv/bin/python -m bench.console [--conversations 100000] [--events 1000000]``
against the dev stack; the schema is dropped afterwards (``--keep`` keeps it)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer

from projections.migrations import connect, migrate, quote_ident
from wastream.config import Settings
from wastream.console.app import CONSOLE, create_app
from wastream.console.auth import add_operator
from wastream.console.reads import Hasher

GOAL_MS = 300.0
FLOWS = [("menu", "main"), ("rides_drivers", "vehicle"), ("rides_passengers", "pickup"),
         ("jobs_find", "place"), ("rentals_find", "price"), ("farmer_sell", "crop"),
         ("general_broker", "need"), ("expired", "idle")]


def wa(i: int) -> str:
    return f"2507{i:08d}"


def when(now: datetime, rnd: random.Random, recent: float = 0.05) -> datetime:
    """A time in the last 14 days; ``recent`` of them in the last hour."""
    if rnd.random() < recent:
        return now - timedelta(seconds=rnd.uniform(0, 3600))
    return now - timedelta(seconds=rnd.uniform(3600, 14 * 86400))


def events(n: int, users: int, now: datetime, rnd: random.Random) -> Iterator[tuple[Any, ...]]:
    for k in range(n):
        u = k % users
        at = when(now, rnd)
        payload = orjson.dumps({"id": f"wamid.b{k}", "type": "text",
                                "text": {"body": f"message {k}"}}).decode()
        yield (f"wamid.b{k}", "message.text", wa(u), "106540352242922", None, "messages", at,
               at, f"corr{k}", 1, payload, "{}", u % 4, k // 4)


async def fill(conn: asyncpg.Connection, users: int, n_events: int) -> dict[str, int]:
    rnd = random.Random(7)  # noqa: S311 - test data, not secrets
    now = datetime.now(UTC)
    counts: dict[str, int] = {}

    async def copy(table: str, cols: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
        batch: list[tuple[Any, ...]] = []
        total = 0
        for r in rows:
            batch.append(r)
            if len(batch) >= 50_000:
                await conn.copy_records_to_table(table, records=batch, columns=cols)
                total += len(batch)
                batch = []
        if batch:
            await conn.copy_records_to_table(table, records=batch, columns=cols)
            total += len(batch)
        counts[table] = total

    await copy("chat_state", ["wa_id", "seq", "flow", "step", "previous_flow", "previous_step",
                              "event_id", "at"],
               ((wa(u), 3, *FLOWS[u % len(FLOWS)], "menu", "main", f"wamid.b{u}",
                 when(now, rnd, 0.2)) for u in range(users)))
    await copy("wa_events", ["event_id", "type", "wa_id", "phone_number_id", "waba_id", "field",
                             "meta_timestamp", "received_at", "correlation_id", "schema_version",
                             "payload", "extra", "kafka_partition", "kafka_offset"],
               events(n_events, users, now, rnd))
    n_out = n_events // 2
    body = orjson.dumps({"messaging_product": "whatsapp", "type": "text",
                         "text": {"body": "Hello! What would you like to do?"}}).decode()

    def outbound() -> Iterator[tuple[Any, ...]]:
        for k in range(n_out):
            at = when(now, rnd)
            failed = k % 50 == 0
            yield (f"wamid.b{k}:0", wa(k % users), "106540352242922", "text", body,
                   f"wamid.b{k}", FLOWS[k % len(FLOWS)][0], f"corr{k}", at, f"wamid.out{k}",
                   "failed" if failed else "read", 5 if failed else 3, at,
                   at if not failed else None, at if not failed else None,
                   at if failed else None, "131026" if failed else None)

    await copy("wa_outbound_messages", ["outbound_id", "wa_id", "phone_number_id",
                                        "message_type", "body", "in_reply_to", "flow",
                                        "correlation_id", "created_at", "wamid", "status",
                                        "status_rank", "status_at", "delivered_at", "read_at",
                                        "failed_at", "error_code"], outbound())
    await copy("wa_delivery_events", ["outbound_key", "wamid_key", "status", "wa_id", "rank",
                                      "at", "source"],
               ((f"wamid.b{k}:0", "", "read", wa(k % users), 3, now, "meta")
                for k in range(n_out)))
    await copy("wa_state_transitions", ["wa_id", "seq", "flow", "step", "previous_flow",
                                        "previous_step", "event_id", "at"],
               ((wa(k % users), k // users, *FLOWS[k % len(FLOWS)], "menu", "main",
                 f"wamid.b{k}", when(now, rnd)) for k in range(n_events * 3 // 10)))
    await copy("wa_domain_events", ["event_id", "name", "wa_id", "data", "caused_by", "at"],
               ((f"dom{k}", "RideRequested", wa(k % users), "{}", f"wamid.b{k}",
                 when(now, rnd)) for k in range(n_events // 20)))
    await copy("wa_dead_letter_queue", ["message_id", "from_number", "payload", "error_message",
                                        "error_class", "error_kind", "failed_at", "status",
                                        "processed", "dlq_partition", "dlq_offset"],
               ((f"b.wa.inbound:{k % 4}:{k}", wa(k * 7 % users),
                 orjson.dumps({"event_id": f"wamid.b{k}", "type": "message.text"}).decode(),
                 "boom", "streams.failure.errors.InjectedPermanent" if k % 3 else
                 "streams.failure.errors.TransientError", "permanent", when(now, rnd, 0.1),
                 "open" if k % 2 else "redrive", k % 2 == 0, k % 4, k)
                for k in range(n_events // 200)))
    await conn.execute("VACUUM ANALYZE")  # what autovacuum does to a live table
    return counts


def pages(users: int, refs: dict[str, str]) -> list[tuple[str, str]]:
    u = 4242
    return [("overview", "/"),
            ("conversations (latest)", "/conversations"),
            ("conversations by number", f"/conversations?number={wa(u)}"),
            ("conversations by flow", "/conversations?flow=jobs_find"),
            ("conversations by flow+step", "/conversations?flow=jobs_find&step=place"),
            ("conversations by step", "/conversations?step=place"),
            ("conversations by step, none", "/conversations?step=no_such_step"),  # worst
            ("conversations errored 1h", "/conversations?errored=1"),
            ("timeline (1 conversation)", f"/conversations/{refs[wa(u)]}"),
            ("dead letters", "/dead-letters"),
            ("dead letters filtered", "/dead-letters?error_class=Transient&status=open"),
            ("funnels and delivery", "/analytics"),
            ("audit", "/audit")]


async def run(args: argparse.Namespace) -> int:
    schema = f"bench_console_{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, WASTREAM_DB_SCHEMA=schema)
    settings = Settings.from_env(env)
    await migrate(settings)
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": schema})
    timings: dict[str, list[float]] = {}
    try:
        t0 = time.perf_counter()
        counts = await fill(conn, args.conversations, args.events)
        print(f"filled {schema} in {time.perf_counter() - t0:.0f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
        await add_operator(conn, "bench", "bench-password", "operator")
        hasher = await Hasher.load(conn)
        u = wa(4242)
        await conn.execute("INSERT INTO console_user_hashes VALUES ($1, $2)", hasher(u), u)
        app = create_app(settings, health_interval_s=3600)

        @web.middleware
        async def timed(request: web.Request,
                        handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                        ) -> web.StreamResponse:
            start = time.perf_counter()
            resp = await handler(request)
            timings.setdefault(request.path_qs, []).append(
                (time.perf_counter() - start) * 1000)
            return resp

        app.middlewares.append(timed)  # innermost: the page's own work, after the log-in gate
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        base = str(server.make_url("")).rstrip("/")
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as s:
            async with s.get(f"{base}/login") as r:
                pre = (await r.text()).split('name="csrf" value="')[1].split('"')[0]
            async with s.post(f"{base}/login", data={"csrf": pre, "name": "bench",
                                                     "password": "bench-password"}) as r:
                assert r.status == 200, r.status
            plan = pages(args.conversations, {u: hasher(u)})
            for _name, path in plan:  # one warm-up round (pool, plans, the analytics read)
                async with s.get(base + path) as r:
                    await r.read()
            timings.clear()
            for _ in range(args.rounds):
                for _name, path in plan:
                    async with s.get(base + path) as r:
                        await r.read()
                        assert r.status == 200, (path, r.status)
        background = {}
        for name, reading in (("overview counts", app[CONSOLE].overview),
                              ("analytics views", app[CONSOLE].analytics)):
            await reading.refresh()
            background[name] = reading.took_ms
        await server.close()
        print(f"\n{'page':32} {'p50 ms':>8} {'p99 ms':>8}  (goal < {GOAL_MS:.0f} ms, "
              f"{args.rounds} loads each)")
        worst = 0.0
        for name, path in plan:
            ms = sorted(timings.get(path, [0.0]))
            p50 = statistics.median(ms)
            p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
            worst = max(worst, p99)
            print(f"{name:32} {p50:8.1f} {p99:8.1f}  {'ok' if p99 < GOAL_MS else 'OVER'}")
        print(f"\nworst p99 {worst:.1f} ms: goal {'met' if worst < GOAL_MS else 'NOT met'}")
        print("read in the background and shared by every page load: "
              + ", ".join(f"{k} {v:.0f} ms" for k, v in background.items())
              + " (every 5 s and every 5 min)")
        return 0
    finally:
        await conn.close()
        if not args.keep:  # as the owner: the services' role may not drop the schema
            owner = await connect(settings, owner=True)
            try:
                await owner.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
            finally:
                await owner.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--keep", action="store_true", help="keep the schema (to inspect plans)")
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
