"""A local stand-in for Meta's Graph API messages endpoint, for tests and ``make run``.

It serves ``POST /{version}/{phone_number_id}/messages`` on loopback, checks each request
against Meta's documented shape (bearer token; ``messaging_product: "whatsapp"``;
``to``, ``type`` and the type's object; interactive limits; or a mark-as-read
``{"status": "read", "message_id"}``) and answers like Meta: a ``wamid`` for a message,
``{"success": true}`` for a read, Meta's error envelope otherwise
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).

It can be told to fail: :meth:`GraphStub.fail` queues answers (HTTP status + Meta code)
or delays (timeouts) for the next N requests; ``POST /_stub/faults`` does the same over
HTTP and ``GET /_stub/requests`` lists what was accepted. The account's customer-service
window and message templates (131047, 132xxx, ``/{waba_id}/message_templates``) are
:mod:`standins.waba`'s. Run it with
``wastream graph-stub --port N`` or in-process (``await GraphStub(...).start()``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from standins.media import MEDIA_GONE, MediaStandin
from standins.server import listen
from standins.waba import StubTemplate, Waba
from standins.waba import error as waba_error
from standins.webhooks import Webhooks

log = logging.getLogger(__name__)

MESSAGE_TYPES = {"text", "image", "audio", "document", "video", "sticker", "location",
                 "contacts", "interactive", "template", "reaction"}
INTERACTIVE_TYPES = {"button", "list", "cta_url", "location_request_message", "flow",
                     "product", "product_list", "address_message", "call_permission_request"}


@dataclass
class Fault:
    """The answer to the next ``count`` requests: an HTTP error with a Meta code, or a
    delay of ``delay_s`` (longer than the client's timeout → a timeout)."""

    count: int
    status: int = 500
    code: int | None = None
    delay_s: float = 0.0


@dataclass
class Seen:
    phone_number_id: str
    body: dict[str, Any]
    answer: int
    wamid: str | None = None
    at: float = field(default_factory=time.time)  # when it was answered
    received: float = 0.0  # when the request arrived (set by the stub)
    failed_later: int | None = None  # accepted, then failed with this code in a webhook


class ShapeError(ValueError):
    """The request does not match Meta's documented shape."""


def _need(cond: bool, msg: str) -> None:
    if not cond:
        raise ShapeError(msg)


def validate(body: Any) -> str:
    """Check a messages request body; return ``"read"`` or the message type."""
    _need(isinstance(body, dict), "body must be a JSON object")
    _need(body.get("messaging_product") == "whatsapp", "messaging_product must be 'whatsapp'")
    if body.get("status") == "read":
        _need(isinstance(body.get("message_id"), str) and bool(body["message_id"]),
              "message_id is required to mark a message as read")
        return "read"
    to = body.get("to")
    _need(isinstance(to, str) and to.lstrip("+").isdigit(), "'to' must be a phone number / wa_id")
    mtype = body.get("type", "text")
    _need(mtype in MESSAGE_TYPES, f"unknown message type {mtype!r}")
    obj = body.get(mtype)
    _need(isinstance(obj, dict), f"the {mtype!r} object is required for type {mtype!r}")
    if mtype == "text":
        text = obj.get("body")
        _need(isinstance(text, str) and 0 < len(text) <= 4096, "text.body: 1..4096 chars")
    if mtype == "interactive":
        _validate_interactive(obj)
    return str(mtype)


def _validate_interactive(obj: dict[str, Any]) -> None:
    itype = obj.get("type")
    _need(itype in INTERACTIVE_TYPES, f"unknown interactive type {itype!r}")
    text = (obj.get("body") or {}).get("text")
    _need(isinstance(text, str) and 0 < len(text) <= 1024, "interactive.body.text: 1..1024 chars")
    action = obj.get("action")
    if not isinstance(action, dict):
        raise ShapeError("interactive.action is required")
    if itype == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise ShapeError("1..3 reply buttons")
        for b in buttons:
            title = (b.get("reply") or {}).get("title")
            _need(b.get("type") == "reply" and isinstance(title, str) and 0 < len(title) <= 20,
                  "reply button title: 1..20 chars")
    elif itype == "list":
        button = action.get("button")
        _need(isinstance(button, str) and 0 < len(button) <= 20, "list action.button: 1..20 chars")
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise ShapeError("1..10 sections")
        rows = [r for s in sections for r in (s.get("rows") or [])]
        _need(1 <= len(rows) <= 10, "a list has 1..10 rows in all")
        for r in rows:
            _need(isinstance(r.get("id"), str) and 0 < len(r["id"]) <= 200, "row id: 1..200 chars")
            _need(isinstance(r.get("title"), str) and 0 < len(r["title"]) <= 24,
                  "row title: 1..24 chars")
            _need(len(r.get("description") or "") <= 72, "row description: up to 72 chars")


def meta_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(status=status, data={"error": {
        "message": message, "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": "stub"}})


@dataclass
class GraphStub:
    """The stand-in server. ``accepted`` lists every request answered with success."""

    token: str = "stub-token"  # noqa: S105 - a test credential
    host: str = "127.0.0.1"
    port: int = 0
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    inflight: int = 0  # requests being answered right now
    latency_s: float = 0.0  # added to every answer (Meta's own latency, for benchmarks)
    media: MediaStandin = field(default_factory=MediaStandin)  # the media endpoints
    waba: Waba = field(default_factory=Waba)  # the window and the templates
    # Where its webhooks go (template statuses, late failures); None: it sends none.
    webhooks: Webhooks | None = None
    # Meta mostly accepts a free-form message outside the window and reports the 131047
    # later, in a ``failed`` status webhook: True does that (needs ``webhooks``).
    window_later: bool = False
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def fail(self, count: int, status: int = 500, code: int | None = None,
             delay_s: float = 0.0) -> None:
        self.faults.append(Fault(count, status, code, delay_s))

    @property
    def accepted(self) -> list[Seen]:
        return [s for s in self.seen if s.answer == 200]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_post("/_stub/faults", self._set_faults)
        app.router.add_get("/_stub/requests", self._requests)
        self.media.mount(app, self.token)
        self.waba.add_routes(app, self._authorized)
        self.waba.on_change = self.announce
        return app

    async def announce(self, templates: list[StubTemplate] | None = None) -> None:
        """Send the status webhook of ``templates`` (default: every one the account
        holds), as Meta does when a template's status changes."""
        if self.webhooks is None:
            return
        for t in list(self.waba.templates.values()) if templates is None else templates:
            await self.webhooks.template_status(t.id, t.name, t.language,
                                                self.waba.status(t), t.reason)

    async def set_template_status(self, name: str, status: str, language: str | None = None,
                                  reason: str = "NONE") -> None:
        """Meta reviews a template again: its new status, and the webhook that says so."""
        await self.announce(self.waba.set_status(name, status, language, reason))

    def later(self, work: Any) -> None:
        """Run ``work`` (a webhook to send) in the background; cancelled on stop."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def start(self) -> GraphStub:
        self._runner, self.port = await listen(self.app(), self.host, self.port)
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    def _next_fault(self) -> Fault | None:
        while self.faults and self.faults[0].count <= 0:
            self.faults.pop(0)
        if not self.faults:
            return None
        self.faults[0].count -= 1
        return self.faults[0]

    async def _messages(self, request: web.Request) -> web.Response:
        self.inflight += 1
        received, before = time.time(), len(self.seen)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            return await self._answer(request)
        finally:
            self.inflight -= 1
            for seen in self.seen[before:]:
                if not seen.received:
                    seen.received = received

    async def _answer(self, request: web.Request) -> web.Response:
        pnid = request.match_info["phone_number_id"]
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.seen.append(Seen(pnid, {}, 401))
            return meta_error(401, 190, "Invalid OAuth access token")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            self.seen.append(Seen(pnid, {}, 400))
            return meta_error(400, 100, "body is not JSON")
        fault = self._next_fault()
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status != 200:
                self.seen.append(Seen(pnid, body, fault.status))
                return meta_error(fault.status, fault.code or fault.status,
                                  f"stub fault {fault.status}/{fault.code}")
        try:
            kind = validate(body)
        except ShapeError as exc:
            self.seen.append(Seen(pnid, body, 400))
            return meta_error(400, 100, f"(#100) Invalid parameter: {exc}")
        if (gone := self.media.gone(body)) is not None:
            self.seen.append(Seen(pnid, body, 400))
            return meta_error(400, MEDIA_GONE, f"Media upload error: media {gone} not found")
        refusal = self.waba.refusal(body, kind)
        if refusal is not None and refusal.code == 131047 and self.window_later \
                and self.webhooks is not None:
            # Accepted now; the failure comes in a status webhook a moment later.
            wamid = f"wamid.STUB{next(self._ids):08d}"
            self.seen.append(Seen(pnid, body, 200, wamid, failed_later=131047))
            self.later(self.webhooks.failed(pnid, wamid, str(body["to"]), 131047,
                                             refusal.message))
            return web.json_response({"messaging_product": "whatsapp",
                                      "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                      "messages": [{"id": wamid}]})
        if refusal is not None:
            self.seen.append(Seen(pnid, body, refusal.status))
            return waba_error(refusal)
        if kind == "read":
            self.seen.append(Seen(pnid, body, 200))
            return web.json_response({"success": True})
        wamid = f"wamid.STUB{next(self._ids):08d}"
        self.seen.append(Seen(pnid, body, 200, wamid))
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                  "messages": [{"id": wamid}]})

    async def _set_faults(self, request: web.Request) -> web.Response:
        for f in orjson.loads(await request.read()):
            self.fail(int(f.get("count", 1)), int(f.get("status", 500)), f.get("code"),
                      float(f.get("delay_s", 0)))
        return web.json_response({"queued": len(self.faults)})

    async def _requests(self, request: web.Request) -> web.Response:
        return web.json_response([{"phone_number_id": s.phone_number_id, "body": s.body,
                                   "answer": s.answer, "wamid": s.wamid} for s in self.seen])


def serve(host: str, port: int, token: str, webhook_url: str | None = None,
          app_secret: str | None = None) -> int:
    """Run the stand-in until interrupted (``wastream graph-stub``); with ``webhook_url``
    and ``app_secret`` it sends its webhooks there, first the approved catalog's
    statuses (so the worker knows them)."""
    logging.basicConfig(level=logging.INFO)
    from wastream.templates import shipped

    stub = GraphStub(token=token, host=host, port=port)
    stub.waba.approve(shipped())  # the dev stack's catalog is approved from the start
    app = stub.app()
    if webhook_url and app_secret:
        stub.webhooks = Webhooks(webhook_url, app_secret)

        async def announce(_app: web.Application) -> None:
            stub.later(stub.announce())

        app.on_startup.append(announce)
    web.run_app(app, host=host, port=port, print=lambda *_: None)
    return 0
