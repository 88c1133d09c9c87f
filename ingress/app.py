"""The ingress service: an aiohttp app (``make_app``) and its process (``serve``).

    wastream ingress --host 0.0.0.0 --port 8080   # WHATSAPP_APP_SECRET required

Options: ``settings.ingress`` (the ``WASTREAM_INGRESS_*`` variables, listed with the rest
in the README's configuration tables and by ``wastream config``).
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import REGISTRY

from ingress import logs
from ingress.errors import ConfigMissing
from ingress.logs import correlation_id
from ingress.metrics import IngressMetrics
from ingress.routes import Handlers, error_response
from ingress.sink import KafkaSink, SinkOptions
from wastream.config import ConfigError, Settings, reveal
from wastream.config.kafka import client_args
from wastream.observability.health import HealthEndpoint, start_from

log = logging.getLogger(__name__)

SINK: web.AppKey[KafkaSink] = web.AppKey("sink", KafkaSink)
METRICS: web.AppKey[IngressMetrics] = web.AppKey("metrics", IngressMetrics)
# /healthz, /readyz and /metrics on WASTREAM_HEALTH_PORT, away from the public webhook port.
HEALTH: web.AppKey[HealthEndpoint] = web.AppKey("health", HealthEndpoint)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def contained(metrics: IngressMetrics, route: str, handler: Handler) -> Handler:
    """``handler`` with a correlation id of its own on every log line and answer (and in
    the X-Request-Id response header), counted in the
    metrics, and no exception ever becoming a 500.

    A wrapper per route rather than an aiohttp middleware: with no middleware aiohttp
    calls the handler directly, where a middleware costs a partial, a wrapper coroutine
    and a current-app fix-up per request (about 10% of the ingress's CPU per webhook).
    Requests no route matches get JSON 404/405 answers from catch-all routes."""

    async def handle(request: web.Request) -> web.StreamResponse:
        # Ours, never the client's X-Request-Id: it keys the raw body on wa.webhooks.raw
        # and in webhook_logs, where a reused id would drop a body (the client's id is
        # kept beside it, see Handlers._webhook). 128 random bits as 32 hex digits, like
        # uuid4().hex without building a UUID.
        cid = os.urandom(16).hex()
        token = correlation_id.set(cid)
        try:
            try:
                resp = await handler(request)
            except web.HTTPException as exc:  # aiohttp's own, e.g. 413 from read()
                resp = error_response(exc.status, "http_error", exc.reason)
            except Exception:
                # A bug of ours, not the client's fault: 503 makes Meta retry the body
                # (after a fix it goes through), where a 500 would say the same less clearly.
                log.exception("unexpected error; answering 503")
                resp = error_response(503, "internal_error", "unexpected error; retry later")
            resp.headers["X-Request-Id"] = cid
            metrics.count_request(route, resp.status)
            return resp
        finally:
            correlation_id.reset(token)

    return handle


async def _not_found(request: web.Request) -> web.StreamResponse:
    return error_response(404, "http_error", "Not Found")


def _method_not_allowed(allowed: str) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        return error_response(405, "http_error",
                              f"Method Not Allowed: {request.method} (allowed: {allowed})",
                              headers={"Allow": allowed})

    return answer


def make_app(settings: Settings, *, insecure_dev: bool = False) -> web.Application:
    """The ingress app. Raises :class:`ConfigMissing` without an app secret unless
    ``insecure_dev`` (then signatures are NOT checked, and the log says so loudly)."""
    opts = settings.ingress
    secret = reveal(settings.meta.app_secret)
    if secret is None:
        if not insecure_dev:
            raise ConfigMissing("WHATSAPP_APP_SECRET is not set: refusing to accept unsigned "
                                "webhooks (use --insecure-dev for local development only)")
        log.critical("INSECURE DEV MODE: WHATSAPP_APP_SECRET not set, webhook signatures are "
                     "NOT checked; anyone who can reach this port can inject events")
    metrics = IngressMetrics()
    sink = KafkaSink(SinkOptions(bootstrap=settings.kafka_bootstrap_servers,
                                 connection=client_args(settings.kafka),
                                 produce_timeout_s=opts.produce_timeout_s,
                                 linger_ms=opts.linger_ms, max_raw_bytes=opts.max_body_bytes,
                                 request_timeout_ms=opts.request_timeout_ms))
    handlers = Handlers(settings, sink, metrics,
                        secret=secret.encode() if secret else None,
                        max_body_bytes=opts.max_body_bytes)
    app = web.Application(client_max_size=opts.max_body_bytes)
    app[SINK] = sink
    app[METRICS] = metrics

    async def kafka() -> bool:
        ok = await sink.ready()
        metrics.ready.set(1 if ok else 0)
        return ok

    # The ingress's own registry (its counters) and the process's (CPU, memory, files).
    app[HEALTH] = HealthEndpoint("ingress", {"kafka": kafka},
                                 registries=(metrics.registry, REGISTRY))
    app[SETTINGS] = settings
    routes: dict[str, dict[str, Handler]] = {
        "/webhook": {"GET": handlers.verify_subscription, "POST": handlers.webhook},
        "/healthz": {"GET": handlers.healthz},
        "/readyz": {"GET": handlers.readyz},
    }
    for path, methods in routes.items():
        for method, handler in methods.items():
            if method == "GET":  # and HEAD, as add_get does
                app.router.add_get(path, contained(metrics, path, handler))
            else:
                app.router.add_route(method, path, contained(metrics, path, handler))
        allowed = ", ".join(["HEAD", *methods] if "GET" in methods else methods)
        app.router.add_route("*", path, contained(metrics, path, _method_not_allowed(allowed)))
    app.router.add_route("*", "/{tail:.*}", contained(metrics, "unmatched", _not_found))

    async def start_sink(app: web.Application) -> None:
        await sink.start()

    async def stop_sink(app: web.Application) -> None:
        await sink.stop()

    app.on_startup.append(start_sink)
    app.on_cleanup.append(stop_sink)
    return app


def loopback(host: str) -> bool:
    """Whether ``host`` binds to this machine only (``localhost`` or a loopback address;
    ``0.0.0.0``, ``::`` and every other name reach beyond it)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server_options(settings: Settings) -> dict[str, Any]:
    """aiohttp server timeouts: an idle connection (or one silent since it opened) is
    closed after ``keepalive_s`` (aiohttp's default is an hour), and a body left unread
    by an early answer is drained for at most a second before the connection closes."""
    return {"keepalive_timeout": settings.ingress.keepalive_s, "lingering_time": 1.0}


def serve(host: str, port: int, insecure_dev: bool, reuse_port: bool = False) -> int:
    """Run the ingress until SIGTERM/SIGINT; in-flight requests finish and the producers
    flush before exit. Exit code 2 when misconfigured, and when ``insecure_dev`` is asked
    for on a host that is not loopback (unsigned webhooks from the network).
    ``reuse_port``: bind with SO_REUSEPORT, beside other processes on the same port
    (``wastream ingress --workers N``, ``ingress.workers``)."""
    try:
        if insecure_dev and not loopback(host):
            raise ConfigMissing(f"--insecure-dev is for a loopback host only, not {host!r}: "
                                "anyone who could reach it could inject events")
        settings = Settings.from_env()
        logs.configure_from(settings, "ingress")
        app = make_app(settings, insecure_dev=insecure_dev)
    except (ConfigMissing, ConfigError) as exc:
        logs.configure("INFO")  # the settings may be what failed
        log.critical("ingress not started: %s", exc)
        print(f"wastream ingress: {exc}", file=sys.stderr)
        return 2
    tune_gc(settings.ingress.gc_gen0)
    return asyncio.run(_serve(app, host, port, settings, reuse_port=reuse_port))


def tune_gc(gen0: int) -> None:
    """Fewer garbage collections for a process that allocates much and keeps little.

    A webhook allocates thousands of short-lived dicts and lists (a 50-update body:
    the decoded JSON, 50 envelopes, their records) with no reference cycles among
    them, so young-generation collections find almost nothing, yet at Python's
    threshold of 700 allocations they ran several times per body and their full
    collections walked every long-lived object of the process. The objects alive at
    start (modules, the app, its producers) are frozen out of the collector's view and
    the young generation is collected every ``gen0`` allocations. Measured under wrk,
    three alternating 8 s runs each: 50-update bodies 1,905/1,791/1,913 -> 1,497/1,650/
    1,478 us of CPU per request, single messages 416/394/377 -> 366/345/305 us.
    ``gen0`` 0 leaves Python's defaults."""
    if gen0 <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0, gen1, gen2)


async def _serve(app: web.Application, host: str, port: int, settings: Settings, *,
                 reuse_port: bool = False) -> int:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=10.0,
                           **server_options(settings))
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_port=reuse_port or None)
    await site.start()
    await start_from(settings, app[HEALTH])
    log.info("ingress listening", extra={"host": host, "port": port})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("ingress stopping: finishing requests, flushing producers")
    await runner.cleanup()
    await app[HEALTH].stop()
    log.info("ingress stopped")
    return 0
