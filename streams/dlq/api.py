"""The admin HTTP API over dead letters, behind ``Authorization: Bearer
$WASTREAM_ADMIN_TOKEN`` (401 without it; every request refused when no token is set).

    GET  /dlq?type=&error_class=&min_age_s=&max_age_s=&status=   list
    GET  /dlq/{dlq_id}                                          show (with history)
    POST /dlq/{dlq_id}/redrive   {"by": "...", "reason": "..."} redrive once
    POST /dlq/{dlq_id}/discard   {"by": "...", "reason": "..."} discard (reason required)
    GET  /healthz                                               no auth

With ``WASTREAM_DLQ_AUTO_REDRIVE_S`` set, the server also redrives transient-class
letters older than that many seconds, every ``WASTREAM_DLQ_AUTO_INTERVAL_S`` (60).
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

from streams.dlq.ops import DlqOps
from wastream.config import Settings, reveal

log = logging.getLogger(__name__)

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
    return app


def _auto_redrive(cooldown_s: float,
                  interval_s: float) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    for res in await app[OPS].auto_redrive(cooldown_s):
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
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    if settings.dlq.admin_token is None:
        log.warning("WASTREAM_ADMIN_TOKEN is not set: every request will get 401")
    web.run_app(create_app(settings), host=host, port=port, print=lambda *_: None)
    return 0
