"""The console's pages and actions (the routes of ``wastream.console.app``)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from wastream.console import audit, reads, timeline
from wastream.console.actions import BULK_MAX
from wastream.console.app import (
    COOKIE,
    PRE_COOKIE,
    console,
    new_pre_token,
    operator,
    render,
    require_operator,
    set_cookie,
)
from wastream.console.auth import SESSION_TTL_S
from wastream.console.auth import login as check_login
from wastream.console.auth import logout as end_session

DIGITS = re.compile(r"\D+")


def shown(request: web.Request, wa_id: str) -> str:
    """The number for an operator, the analytics user_hash (shortened) for a viewer."""
    return wa_id if operator(request).can_act else console(request).hasher(wa_id)[:16] + "…"


async def login_page(request: web.Request) -> web.Response:
    # The same token while the cookie lives: a second GET (another tab, a favicon
    # redirect) must not invalidate the form already on screen.
    pre = request.cookies.get(PRE_COOKIE) or new_pre_token()
    resp = render(request, "login.html", pre=pre, error=None)
    set_cookie(request, resp, PRE_COOKIE, pre, 600)
    return resp


async def login(request: web.Request) -> web.StreamResponse:
    c = console(request)
    form = await request.post()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    pre = request.cookies.get(PRE_COOKIE)
    if not pre or form.get("csrf") != pre:
        raise web.HTTPForbidden(text="missing or wrong CSRF token")
    peer = f"ip:{request.remote}"
    async with c.pool.acquire() as conn:
        if c.limiter.blocked(peer, f"name:{name}"):
            await audit.record(conn, name, "login_refused", reason="rate limited")
            return render(request, "login.html", status=429, pre=pre,
                          error="Too many failed logins: wait a few minutes.")
        token = await check_login(conn, name, password)
        await audit.record(conn, name, "login" if token else "login_failed",
                           target=str(request.remote or ""))
    if token is None:
        c.limiter.failed(peer, f"name:{name}")
        return render(request, "login.html", status=401, pre=pre,
                      error="Wrong name or password.")
    resp = web.HTTPSeeOther("/")
    set_cookie(request, resp, COOKIE, token, SESSION_TTL_S)
    resp.del_cookie(PRE_COOKIE, path="/")
    raise resp


async def logout(request: web.Request) -> web.StreamResponse:
    async with console(request).pool.acquire() as conn:
        await end_session(conn, request.cookies.get(COOKIE, ""))
        await audit.record(conn, operator(request).name, "logout")
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(COOKIE, path="/")
    raise resp


async def overview(request: web.Request) -> web.Response:
    c = console(request)
    data = await c.overview.current()
    return render(request, "overview.html", d=data, health=c.health.snapshot,
                  reading=c.overview)


async def conversations(request: web.Request) -> web.Response:
    c = console(request)
    q = request.query
    number = DIGITS.sub("", q.get("number", ""))
    async with c.pool.acquire() as conn:
        rows = await reads.conversations(conn, wa_id=number or None, flow=q.get("flow") or None,
                                         step=q.get("step") or None,
                                         errored=q.get("errored") == "1")
        await reads.remember_hashes(conn, c.hasher, [r["wa_id"] for r in rows])
        flows = await reads.flows(conn)
    items = [{"ref": c.hasher(r["wa_id"]), "who": shown(request, r["wa_id"]),
              "flow": r["flow"], "step": r["step"], "at": r["at"], "seq": r["seq"]}
             for r in rows]
    return render(request, "conversations.html", rows=items, flows=flows, q=q,
                  searched_hash=c.hasher(number) if number else None)


async def _wa_id(request: web.Request) -> str:
    async with console(request).pool.acquire() as conn:
        wa_id = await reads.wa_id_of(conn, request.match_info["ref"])
    if wa_id is None:
        raise web.HTTPNotFound(text="no such conversation (search for it first)")
    return wa_id


async def conversation(request: web.Request) -> web.Response:
    c = console(request)
    wa_id = await _wa_id(request)
    async with c.pool.acquire() as conn:
        items = await timeline.load(conn, wa_id)
        state = await conn.fetchrow("SELECT flow, step, seq, at FROM chat_state WHERE wa_id = $1",
                                    wa_id)
    return render(request, "conversation.html", ref=request.match_info["ref"],
                  who=shown(request, wa_id), items=items, state=state,
                  flash=request.query.get("done"))


def _reason(form: Any) -> str:
    reason = str(form.get("reason", "")).strip()
    if not reason:
        raise web.HTTPBadRequest(text="a reason is required")
    return reason[:500]


async def reset(request: web.Request) -> web.StreamResponse:
    op = require_operator(request)
    c = console(request)
    reason = _reason(await request.post())
    wa_id = await _wa_id(request)
    res = await c.actions.reset(wa_id, op.name, reason, f"console-{uuid.uuid4().hex[:12]}")
    async with c.pool.acquire() as conn:
        await audit.record(conn, op.name, "reset_to_menu", target=request.match_info["ref"],
                           reason=reason, result=res)
    raise web.HTTPSeeOther(f"/conversations/{request.match_info['ref']}?done=reset")


async def dead_letters(request: web.Request) -> web.Response:
    c = console(request)
    q = {k: v for k, v in request.query.items() if v}
    try:
        async with c.pool.acquire() as conn:
            rows = await reads.dead_letters(conn, q)
            await reads.remember_hashes(conn, c.hasher, sorted({r["from_number"] for r in rows}))
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    items = [{**dict(r), "ref": c.hasher(r["from_number"]),
              "who": shown(request, r["from_number"])} for r in rows]
    return render(request, "dead_letters.html", rows=items, q=q, flash=q.get("done"),
                  bulk_max=BULK_MAX)


async def dlq_action(request: web.Request) -> web.StreamResponse:
    op = require_operator(request)
    c = console(request)
    action, dlq_id = request.match_info["action"], request.match_info["dlq_id"]
    form = await request.post()
    reason = _reason(form)  # every action is audited with why, a redrive too
    if action == "redrive":
        res = await c.actions.redrive(dlq_id, op.name, reason)
    elif action == "discard":
        res = await c.actions.discard(dlq_id, op.name, reason)
    else:
        raise web.HTTPNotFound()
    async with c.pool.acquire() as conn:
        await audit.record(conn, op.name, f"dlq_{action}", target=dlq_id, reason=reason,
                           result=res)
    back = str(form.get("back") or "/dead-letters")
    if not back.startswith("/") or back.startswith("//"):
        back = "/dead-letters"
    sep = "&" if "?" in back else "?"
    raise web.HTTPSeeOther(f"{back}{sep}done={res['result']}")


async def dlq_bulk(request: web.Request) -> web.StreamResponse:
    """Redrive or discard every open letter the filters select (at most BULK_MAX)."""
    op = require_operator(request)
    c = console(request)
    form = await request.post()
    action = str(form.get("action", ""))
    if action not in ("redrive", "discard"):
        raise web.HTTPBadRequest(text="action must be redrive or discard")
    reason = _reason(form)
    q = {k: str(form[k]) for k in ("type", "error_class", "min_age_s", "max_age_s", "wa_id")
         if form.get(k)}
    q["status"] = "open"
    async with c.pool.acquire() as conn:
        rows = await reads.dead_letters(conn, q, limit=BULK_MAX)
    results: dict[str, int] = {}
    for r in rows:
        do = c.actions.redrive if action == "redrive" else c.actions.discard
        res = await do(r["message_id"], op.name, reason)
        results[res["result"]] = results.get(res["result"], 0) + 1
    async with c.pool.acquire() as conn:
        await audit.record(conn, op.name, f"dlq_bulk_{action}", target=str(q), reason=reason,
                           result={"letters": [r["message_id"] for r in rows], **results})
    summary = ",".join(f"{k}:{v}" for k, v in sorted(results.items())) or "none"
    raise web.HTTPSeeOther(f"/dead-letters?done=bulk-{summary}")


async def analytics(request: web.Request) -> web.Response:
    cache = console(request).analytics
    if request.query.get("refresh") == "1":
        await cache.refresh()  # asked for: read the views now
    return render(request, "analytics.html", a=await cache.current(), cache=cache)


async def audit_page(request: web.Request) -> web.Response:
    async with console(request).pool.acquire() as conn:
        rows = await audit.recent(conn)
    return render(request, "audit.html", rows=rows)


async def media(request: web.Request) -> web.Response:
    """A stored media object (operators only: media is the user's own content)."""
    require_operator(request)
    from streams.media.store import StoreError, from_settings

    store = from_settings(console(request).settings)  # the directory or the bucket
    try:
        key = request.match_info["key"]
        data, mime = await store.get(key), await store.mime_type(key)
    except StoreError as exc:
        raise web.HTTPNotFound() from exc
    finally:
        await store.close()
    if data is None:
        raise web.HTTPNotFound()
    return web.Response(body=data, content_type=mime or "application/octet-stream",
                        headers={"Content-Disposition": "attachment"})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/login", login_page)
    router.add_post("/login", login)
    router.add_post("/logout", logout)
    router.add_get("/", overview)
    router.add_get("/conversations", conversations)
    router.add_get("/conversations/{ref}", conversation)
    router.add_post("/conversations/{ref}/reset", reset)
    router.add_get("/dead-letters", dead_letters)
    router.add_post("/dead-letters/bulk", dlq_bulk)
    router.add_post("/dead-letters/{dlq_id}/{action}", dlq_action)
    router.add_get("/analytics", analytics)
    router.add_get("/audit", audit_page)
    router.add_get("/media/{key}", media)
