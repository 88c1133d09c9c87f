"""The comparison servers of the benchmark, run as their own processes:

- ``bare``: an aiohttp handler that reads the body and answers 200, nothing else;
- ``seed``: what the seed design did: verify the signature, parse, then INSERT the raw
  body into ``webhook_logs`` and every event into ``wa_events``, one autocommitted
  statement at a time, before answering 200;
- ``floor`` (only with ``--with-floor``; a diagnostic, not a goal): aiohttp plus the
  ingress's own ``KafkaSink`` producing the raw body alone (acks=all, idempotent,
  answered after the ack): no signature, no parsing, no events, no middleware. What
  any Kafka-acknowledged ingress costs in this process model before doing its work.
- ``floor2`` (with ``--with-floor``): ``floor`` plus one record on ``wa.inbound`` (the
  body's bytes as its value, keyed by one of 5,000 user-like ids, as the load's
  senders): the two records the design writes for a single-message body, and nothing
  else. The full ingress cannot be cheaper than this (for 50-update bodies it writes
  49 records more than ``floor2`` does).

The full ingress is the real ``wastream ingress`` command.

Is ``seed`` fair? It is the seed's design (``wa-webhook`` wrote ``webhook_logs`` and
``wa_events`` before answering) given the best plumbing it could have had: asyncpg's
binary protocol with prepared statements over a local pool, where the seed went through
supabase-js and PostgREST over HTTP. Its pool (16) is not its limit: 32 connections
(one per client connection) measured the same (~420-510 requests/s each, same run);
the limit is one autocommit, so one WAL flush, per statement (``synchronous_commit``
on, as Supabase runs it). Every run posts fresh message ids (``ON CONFLICT DO NOTHING``
on a repeat would write nothing and skip the flush).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

import asyncpg
import orjson
from aiohttp import web

from ingress.app import tune_gc
from ingress.signature import Verdict, verify
from ingress.sink import KafkaSink, OutRecord, SinkOptions
from schemas import topics
from schemas.meta import MetaPayloadError, parse_bytes
from wastream.config import Settings, reveal
from wastream.config.kafka import client_args

DDL = """
CREATE TABLE IF NOT EXISTS webhook_logs (id bigserial PRIMARY KEY, correlation_id text,
    body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS wa_events (event_id text PRIMARY KEY, type text NOT NULL,
    wa_id text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now());
"""


def bare_app() -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    app = web.Application(client_max_size=3 * 1024 * 1024)
    app.router.add_post("/webhook", handle)
    return app


def seed_app(database_url: str, schema: str, secret: bytes) -> web.Application:
    pool_key: web.AppKey[asyncpg.Pool] = web.AppKey("pool", asyncpg.Pool)

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        if verify(raw, request.headers.get("X-Hub-Signature-256"), secret) is not Verdict.OK:
            return web.Response(status=403)
        try:
            events = parse_bytes(raw, correlation_id="-", received_at="-")
        except MetaPayloadError:
            return web.Response(status=400)
        async with request.app[pool_key].acquire() as conn:
            await conn.execute("INSERT INTO webhook_logs (body) VALUES ($1::jsonb)", raw.decode())
            for e in events:
                await conn.execute(
                    "INSERT INTO wa_events (event_id, type, wa_id, payload) "
                    "VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (event_id) DO NOTHING",
                    e.event_id, e.type, e.wa_id, orjson.dumps(e.payload).decode())
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def open_pool(app: web.Application) -> None:
        pool = await asyncpg.create_pool(database_url, min_size=4, max_size=16,
                                         server_settings={"search_path": schema})
        async with pool.acquire() as conn:
            await conn.execute(DDL)
        app[pool_key] = pool

    async def close_pool(app: web.Application) -> None:
        await app[pool_key].close()

    app = web.Application(client_max_size=3 * 1024 * 1024)
    app.router.add_post("/webhook", handle)
    app.on_startup.append(open_pool)
    app.on_cleanup.append(close_pool)
    return app


def floor_app(settings: Settings, raw_topic: str,
              inbound_topic: str | None = None) -> web.Application:
    """``floor``, or ``floor2`` when ``inbound_topic`` is given (see the module docstring)."""
    sink = KafkaSink(SinkOptions(bootstrap=settings.kafka_bootstrap_servers,
                                 connection=client_args(settings.kafka)))
    users = [f"2507{i:08d}".encode() for i in range(5000)]
    served = 0

    async def handle(request: web.Request) -> web.Response:
        nonlocal served
        raw = await request.read()
        events = []
        if inbound_topic is not None:
            served += 1
            events.append(OutRecord(inbound_topic, users[served % len(users)], raw, []))
        await sink.publish(OutRecord(raw_topic, os.urandom(16).hex().encode(), raw, [],
                                     spread=True), events)
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def readyz(request: web.Request) -> web.Response:
        return web.Response(status=200 if await sink.ready() else 503)

    async def start(app: web.Application) -> None:
        await sink.start()

    async def stop(app: web.Application) -> None:
        await sink.stop()

    app = web.Application(client_max_size=3 * 1024 * 1024)
    app.router.add_post("/webhook", handle)
    app.router.add_get("/readyz", readyz)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


async def _run(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["bare", "seed", "floor", "floor2"])
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    if args.kind == "bare":
        app = bare_app()
    elif args.kind in ("floor", "floor2"):
        settings = Settings.from_env()
        app = floor_app(settings, settings.topic(topics.RAW),
                        settings.topic(topics.INBOUND) if args.kind == "floor2" else None)
    else:
        settings = Settings.from_env()
        app = seed_app(settings.database_url, os.environ["BENCH_SCHEMA"],
                       (reveal(settings.meta.app_secret) or "").encode())
    # The same garbage-collector settings as the ingress (``ingress.app.tune_gc``), so
    # that no ratio owes anything to a runtime setting only one side has.
    tune_gc(20_000)
    asyncio.run(_run(app, args.port))


if __name__ == "__main__":
    main()
