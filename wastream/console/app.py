"""The console's aiohttp application: sessions, CSRF and roles as middleware, the pages
(``wastream.console.pages``) and the static files, all served from this machine."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg
import jinja2
from aiohttp import web

from wastream.config import Settings
from wastream.console import auth, reads
from wastream.console.actions import Actions
from wastream.console.health import Health
from wastream.console.reads import Hasher, Periodic

COOKIE = "wastream_console"
PRE_COOKIE = "wastream_console_login"  # double-submit CSRF token of the login form
PUBLIC = ("/login", "/healthz", "/static/", "/favicon.ico")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Console:
    """What every handler needs: settings, the pool, templates, actions, health."""

    settings: Settings
    pool: asyncpg.Pool
    templates: jinja2.Environment
    actions: Actions
    health: Health
    limiter: auth.LoginLimiter
    hasher: Hasher
    overview: Periodic
    analytics: Periodic
    secure_cookies: bool = False


CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)
OPERATOR: web.RequestKey[auth.Operator] = web.RequestKey("operator", auth.Operator)


def console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def operator(request: web.Request) -> auth.Operator:
    return request[OPERATOR]


def render(request: web.Request, name: str, status: int = 200, **ctx: Any) -> web.Response:
    c = console(request)
    op = request.get(OPERATOR)
    html = c.templates.get_template(name).render(op=op, path=request.path, **ctx)
    return web.Response(text=html, status=status, content_type="text/html")


def set_cookie(request: web.Request, resp: web.StreamResponse, name: str, value: str,
               max_age: int) -> None:
    """HttpOnly, SameSite=Strict, and Secure when served over TLS (or told so)."""
    resp.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Strict",
                    secure=request.secure or console(request).secure_cookies, path="/")


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log-in gate, CSRF check of every POST, and headers that keep pages to themselves."""
    if not request.path.startswith(PUBLIC):
        token = request.cookies.get(COOKIE)
        op = None
        if token:
            async with console(request).pool.acquire() as conn:
                op = await auth.session(conn, token)
        if op is None:
            if request.method == "GET":
                raise web.HTTPSeeOther("/login")
            raise web.HTTPUnauthorized(text="log in first")
        request[OPERATOR] = op
        if request.method == "POST":
            form = await request.post()
            given = form.get("csrf")
            if not auth.csrf_ok(op, given if isinstance(given, str) else None):
                raise web.HTTPForbidden(text="missing or wrong CSRF token")
    resp = await handler(request)
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


PHONE = re.compile(r"\+?\d[\d \-]{7,}\d")


def masked(text: object, op: auth.Operator | None) -> str:
    """``text`` with anything that looks like a phone number hidden from a viewer (a
    message, a reply or an error may quote one: a match shares the other's number)."""
    s = "" if text is None else str(text)
    return s if op is not None and op.can_act else PHONE.sub("•••", s)


def require_operator(request: web.Request) -> auth.Operator:
    """The operator of an action; a viewer is refused (403)."""
    op = operator(request)
    if not op.can_act:
        raise web.HTTPForbidden(text="viewers cannot act: ask an operator")
    return op


def new_pre_token() -> str:
    return secrets.token_urlsafe(24)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wastream.console", "templates"),
        autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    from wastream.console import charts

    env.globals.update(columns=charts.columns, bars=charts.bars, tile=charts.location_tile,
                       funnel_pairs=charts.funnel_pairs, delivery_pairs=charts.delivery_pairs)
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M:%S") if d else "—"
    env.filters["masked"] = masked
    return env


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    types = {"console.css": "text/css", "refresh.js": "application/javascript"}
    if name not in types:
        raise web.HTTPNotFound()
    body = (resources.files("wastream.console") / "static" / name).read_bytes()
    return web.Response(body=body, content_type=types[name],
                        headers={"Cache-Control": "max-age=300"})


def create_app(settings: Settings, *, ingress_metrics_url: str | None = None,
               worker_metrics_url: str | None = None, secure_cookies: bool = False,
               health_interval_s: float = 5.0,
               overview_interval_s: float = 5.0,
               analytics_interval_s: float = 300.0) -> web.Application:
    """The console app; its database pool, producer and health reader live with it."""
    from wastream.console import pages

    app = web.Application(middlewares=[security], client_max_size=64 * 1024)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=8,
                                         server_settings={"search_path": settings.db_schema})
        assert pool is not None
        async with pool.acquire() as conn:
            hasher = await Hasher.load(conn)
        health = Health(settings, pool, ingress_metrics_url, worker_metrics_url, health_interval_s)
        await health.start()
        overview = Periodic(pool, reads.overview, overview_interval_s)
        analytics = Periodic(pool, reads.analytics, analytics_interval_s)
        for periodic in (overview, analytics):
            await periodic.start()
        app[CONSOLE] = Console(settings, pool, _templates(), Actions(settings), health,
                               auth.LoginLimiter(), hasher, overview, analytics,
                               secure_cookies)
        yield
        for periodic in (overview, analytics):
            await periodic.stop()
        await health.stop()
        await app[CONSOLE].actions.stop()
        await pool.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/favicon.ico", _no_icon)
    app.router.add_get("/static/{name}", _static)
    pages.add_routes(app.router)
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)
