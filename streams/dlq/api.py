"""The admin HTTP API over dead letters, behind ``Authorization: Bearer
$WASTREAM_ADMIN_TOKEN`` (401 without it; every request refused when no token is set).

    GET  /dlq?type=&error_class=&min_age_s=&max_age_s=&status=   list
    GET  /dlq/{dlq_id}                                          show (with history)
    POST /dlq/{dlq_id}/redrive   {"by": "...", "reason": "..."} redrive once
    POST /dlq/{dlq_id}/discard   {"by": "...", "reason": "..."} discard (reason required)
    GET  /healthz                                               no auth

With ``WASTREAM_DLQ_AUTO_REDRIVE_S`` set, the server also redrives transient-class
letters older than that many seconds, every ``WASTREAM_DLQ_AUTO_INTERVAL_S`` (60).

Every ``WASTREAM_DLQ_AUTO_INTERVAL_S`` it also counts the letters by error class and
status (``wastream_dlq_letters``), served with ``/healthz``, ``/readyz`` and the process
metrics on ``WASTREAM_HEALTH_PORT`` (``wastream.observability.health``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import Counter, Gauge

from streams.dlq.ops import DlqOps
from wastream.config import Settings, reveal
from wastream.observability import logs
from wastream.observability.health import HealthEndpoint, start_from

log = logging.getLogger(__name__)

LETTERS = Gauge("wastream_dlq_letters", "Dead letters on wa.dlq by error class and status "
                     "(open, redriven, discarded)", ["error_class", "status"])
AUTO_REDRIVES = Counter("wastream_dlq_auto_redrives_total",
                        "Letters the automatic redrive acted on, by result", ["result"])

OPS: web.AppKey[DlqOps] = web.AppKey("ops", DlqOps)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _auth(token: str | None) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/healthz":
            return await handler(request)
        given = request.headers.get("Authorization", "")
        if token is None or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return _json({"error": "unauthorized"}, 401)
        return await handler(request)
    return middleware


def _float(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    return float(raw) if raw else None


async def _list(request: web.Request) -> web.Response:
    q = request.query
    try:
        letters = await request.app[OPS].list_letters(
            type=q.get("type"), error_class=q.get("error_class"),
            min_age_s=_float(request, "min_age_s"), max_age_s=_float(request, "max_age_s"),
            status=q.get("status"))
    except ValueError as exc:
        return _json({"error": str(exc)}, 400)
    return _json(letters)


async def _show(request: web.Request) -> web.Response:
    letter = await request.app[OPS].show(request.match_info["dlq_id"])
    return _json(letter) if letter is not None else _json({"error": "not found"}, 404)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text='{"error": "body is not JSON"}',
                                 content_type="application/json") from exc
    return data if isinstance(data, dict) else {}


async def _redrive(request: web.Request) -> web.Response:
    body = await _body(request)
    res = await request.app[OPS].redrive(request.match_info["dlq_id"],
                                         by=str(body.get("by") or "api"),
                                         reason=str(body.get("reason") or ""))
    return _json(res, 404 if res["result"] == "not_found" else 200)


async def _discard(request: web.Request) -> web.Response:
    body = await _body(request)
    if not body.get("reason"):
        return _json({"error": "a discard needs a reason"}, 400)
    res = await request.app[OPS].discard(request.match_info["dlq_id"],
                                         by=str(body.get("by") or "api"),
                                         reason=str(body["reason"]))
    return _json(res, 404 if res["result"] == "not_found" else 200)


async def _healthz(request: web.Request) -> web.Response:
    return _json({"ok": True})


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[_auth(reveal(settings.dlq.admin_token))])
    app[OPS] = DlqOps(settings)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/dlq", _list)
    app.router.add_get("/dlq/{dlq_id}", _show)
    app.router.add_post("/dlq/{dlq_id}/redrive", _redrive)
    app.router.add_post("/dlq/{dlq_id}/discard", _discard)
    cooldown = settings.dlq.auto_redrive_s
    if cooldown is not None:
        app.cleanup_ctx.append(_auto_redrive(cooldown, settings.dlq.auto_interval_s))
    census = Census(app[OPS])
    app[CENSUS] = census
    app.cleanup_ctx.append(_every(settings.dlq.auto_interval_s, census.count))
    return app


class Census:
    """Counts the letters by error class and status into ``wastream_dlq_letters``;
    ``ok`` says whether the last count reached Kafka (``/readyz``)."""

    def __init__(self, ops: DlqOps) -> None:
        self.ops = ops
        self.ok = False
        self._seen: set[tuple[str, str]] = set()

    async def count(self) -> None:
        try:
            letters = await self.ops.list_letters()
        except Exception:
            self.ok = False
            raise
        self.ok = True
        counts: dict[tuple[str, str], int] = {}
        for s in letters:
            k = (s["error_class"] or "unknown", s["status"])
            counts[k] = counts.get(k, 0) + 1
        for k in self._seen | set(counts):  # a class whose letters are all gone reads 0
            LETTERS.labels(*k).set(counts.get(k, 0))
        self._seen |= set(counts)

    async def ready(self) -> bool:
        return self.ok


CENSUS: web.AppKey[Census] = web.AppKey("census", Census)


def _every(interval_s: float,
           fn: Callable[[], Awaitable[None]]) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    await fn()
                except Exception:
                    log.exception("dead-letter count failed")
                await asyncio.sleep(interval_s)
        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return ctx


def _auto_redrive(cooldown_s: float,
                  interval_s: float) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    for res in await app[OPS].auto_redrive(cooldown_s):
                        AUTO_REDRIVES.labels(res["result"]).inc()
                        with logs.bound(res.get("correlation_id"), res.get("event_id")):
                            log.info("auto-redrive %s: %s", res["dlq_id"], res["result"])
                except Exception:
                    log.exception("auto-redrive pass failed")
                await asyncio.sleep(interval_s)
        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return ctx


def serve(host: str, port: int) -> int:
    """Run the admin API (``wastream dlq serve``)."""
    settings = Settings.from_env()
    logs.configure_from(settings, "dlq")
    if settings.dlq.admin_token is None:
        log.warning("WASTREAM_ADMIN_TOKEN is not set: every request will get 401")
    app = create_app(settings)
    endpoint = HealthEndpoint("dlq", {"kafka": app[CENSUS].ready})

    async def health(app: web.Application) -> AsyncIterator[None]:
        await start_from(settings, endpoint)
        yield
        await endpoint.stop()

    app.cleanup_ctx.append(health)
    web.run_app(app, host=host, port=port, print=lambda *_: None)
    return 0
