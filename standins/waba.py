"""The stand-in Graph API's WhatsApp Business Account: each user's customer-service
window and the account's message templates (decision 0015).

- **The window.** Meta refuses a free-form message (anything but ``type: template``) to
  a user who has not written for 24 hours, with error 131047. The stand-in knows when
  each user last wrote from :meth:`Waba.wrote` (``POST /_stub/inbound {wa_id,
  timestamp}``); the check is on only when ``window_s`` is set, and then a user it was
  never told about has no window.
- **Templates.** ``POST /{version}/{waba_id}/message_templates`` creates one (PENDING;
  APPROVED after ``approve_after_s`` if set, or on ``POST /_stub/templates/{name}/status``),
  ``GET`` lists them (Meta's ``data`` + ``paging``). A template message is accepted only
  for a template APPROVED in that language with as many body parameters as ``{{n}}``
  in its body and no more quick-reply payloads than its buttons; else 132001 (no such
  approved template in that language), 132015 (paused), 132016 (disabled) or 132000
  (parameter count), as Meta answers.

References: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates,
https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from streams.engine.templates import LANGS, Template, meta_definition

STATUSES = {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL",
            "PENDING_DELETION", "LIMIT_EXCEEDED"}
CATEGORIES = {"UTILITY", "MARKETING", "AUTHENTICATION"}
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_PARAM = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Meta's answer to a request it refuses: HTTP status, error code, message."""

    status: int
    code: int
    message: str


@dataclass
class StubTemplate:
    """One template in one language, as the account holds it."""

    id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "PENDING"
    reason: str = "NONE"
    created: float = field(default_factory=time.time)

    @property
    def body_params(self) -> int:
        body = next((c for c in self.components if c.get("type") == "BODY"), {})
        return len(set(_PARAM.findall(str(body.get("text", "")))))

    @property
    def quick_replies(self) -> int:
        return sum(1 for c in self.components if c.get("type") == "BUTTONS"
                   for b in c.get("buttons", []) if b.get("type") == "QUICK_REPLY")

    def json(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "status": self.status,
                "category": self.category, "id": self.id, "components": self.components}


@dataclass
class Waba:
    """The window and template state of the stand-in (one account)."""

    window_s: float | None = None  # None: free-form is never refused
    approve_after_s: float | None = None  # None: PENDING until told
    last_inbound: dict[str, float] = field(default_factory=dict)
    templates: dict[tuple[str, str], StubTemplate] = field(default_factory=dict)
    # Told of every status change made over HTTP (the Graph stand-in sends its webhook).
    on_change: Callable[[list[StubTemplate]], Awaitable[None]] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- the window ---------------------------------------------------------------
    def wrote(self, wa_id: str, timestamp: float) -> None:
        """``wa_id`` sent a message at ``timestamp`` (Meta's clock, seconds)."""
        self.last_inbound[wa_id] = max(timestamp, self.last_inbound.get(wa_id, 0.0))

    def window_open(self, wa_id: str, now: float | None = None) -> bool:
        if self.window_s is None:
            return True
        last = self.last_inbound.get(wa_id)
        return last is not None and (now or time.time()) - last < self.window_s

    # -- templates ----------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> StubTemplate:
        """A template from Meta's create request; raises :class:`RefusedError`."""
        name, lang = body.get("name"), body.get("language")
        category, components = body.get("category"), body.get("components")
        if not isinstance(name, str) or not _NAME.match(name):
            raise RefusedError(Refusal(400, 100, "(#100) Invalid parameter: name"))
        if not isinstance(lang, str) or not lang:
            raise RefusedError(Refusal(400, 100, "(#100) Invalid parameter: language"))
        if category not in CATEGORIES:
            raise RefusedError(Refusal(400, 100, "(#100) Invalid parameter: category"))
        if not isinstance(components, list):
            raise RefusedError(Refusal(400, 100, "(#100) components is required"))
        _check_components(components)
        if (name, lang) in self.templates:
            raise RefusedError(Refusal(400, 100, f"(#100) Message template {name!r} "
                                                 f"already exists in {lang}"))
        template = StubTemplate(str(next(self._ids)), name, lang, str(category), components)
        self.templates[(name, lang)] = template
        return template

    def approve(self, catalog: Iterable[Template]) -> None:
        """Hold ``catalog`` (every language) as APPROVED, as if reviewed long ago."""
        for template in catalog:
            for lang in LANGS:
                definition = meta_definition(template, lang)
                key = (definition["name"], definition["language"])
                held = self.templates.get(key) or self.create(definition)
                held.status = "APPROVED"

    def set_status(self, name: str, status: str, language: str | None = None,
                   reason: str = "NONE") -> list[StubTemplate]:
        """Set the status of ``name`` (in ``language``, or every language)."""
        if status not in STATUSES:
            raise ValueError(f"unknown template status {status!r}")
        changed = [t for (n, lang), t in self.templates.items()
                   if n == name and language in (None, lang)]
        for template in changed:
            template.status, template.reason = status, reason
        return changed

    def status(self, template: StubTemplate, now: float | None = None) -> str:
        """``template``'s status now (a PENDING one is approved after the delay)."""
        if (template.status == "PENDING" and self.approve_after_s is not None
                and (now or time.time()) - template.created >= self.approve_after_s):
            template.status = "APPROVED"
        return template.status

    def listing(self) -> list[dict[str, Any]]:
        for template in self.templates.values():
            self.status(template)
        return [t.json() for t in self.templates.values()]

    # -- messages -----------------------------------------------------------------
    def refusal(self, body: dict[str, Any], kind: str) -> Refusal | None:
        """Why Meta would refuse this (well-formed) message body, or None."""
        if kind == "read":
            return None
        if kind != "template":
            if self.window_open(str(body["to"]).lstrip("+")):
                return None
            return Refusal(400, 131047, "(#131047) Re-engagement message: more than 24 "
                                        "hours have passed since the customer last replied")
        return self._template_refusal(body["template"])

    def _template_refusal(self, ref: dict[str, Any]) -> Refusal | None:
        name, lang = ref.get("name"), (ref.get("language") or {}).get("code")
        template = self.templates.get((str(name), str(lang)))
        status = self.status(template) if template else None
        if status == "PAUSED":
            return Refusal(400, 132015, f"(#132015) Template {name} is paused")
        if status == "DISABLED":
            return Refusal(400, 132016, f"(#132016) Template {name} is disabled")
        if template is None or status != "APPROVED":
            return Refusal(404, 132001, f"(#132001) Template name does not exist in the "
                                        f"translation: {name} in {lang}")
        components = ref.get("components") or []
        params = sum(len(c.get("parameters") or []) for c in components
                     if c.get("type") == "body")
        if params != template.body_params:
            return Refusal(400, 132000, "(#132000) Number of parameters does not match the "
                                        f"expected number of params ({params} given, "
                                        f"{template.body_params} expected)")
        indexes = [int(c.get("index", -1)) for c in components if c.get("type") == "button"]
        if any(not 0 <= i < template.quick_replies for i in indexes):
            return Refusal(400, 132000, f"(#132000) Button index out of range: {indexes}, "
                                        f"{template.quick_replies} quick replies")
        return None

    # -- HTTP ---------------------------------------------------------------------
    def add_routes(self, app: web.Application, authorized: Any) -> None:
        """The account's routes; ``authorized(request)`` checks the bearer token."""

        async def create(request: web.Request) -> web.Response:
            if not authorized(request):
                return error(Refusal(401, 190, "Invalid OAuth access token"))
            try:
                template = self.create(orjson.loads(await request.read()))
            except orjson.JSONDecodeError:
                return error(Refusal(400, 100, "body is not JSON"))
            except RefusedError as exc:
                return error(exc.refusal)
            return web.json_response({"id": template.id, "status": self.status(template),
                                      "category": template.category})

        async def listing(request: web.Request) -> web.Response:
            if not authorized(request):
                return error(Refusal(401, 190, "Invalid OAuth access token"))
            rows = self.listing()
            limit = int(request.query.get("limit", "25"))
            start = int(request.query.get("after", "0"))
            page = rows[start:start + limit]
            paging: dict[str, Any] = {"cursors": {"before": str(start),
                                                  "after": str(start + len(page))}}
            if start + limit < len(rows):
                paging["next"] = str(request.url.update_query(
                    {"limit": str(limit), "after": str(start + limit)}))
            return web.json_response({"data": page, "paging": paging})

        async def inbound(request: web.Request) -> web.Response:
            body = orjson.loads(await request.read())
            self.wrote(str(body["wa_id"]), float(body.get("timestamp", time.time())))
            return web.json_response({"ok": True})

        async def set_status(request: web.Request) -> web.Response:
            body = orjson.loads(await request.read() or b"{}")
            changed = self.set_status(request.match_info["name"],
                                      str(body.get("status", "APPROVED")),
                                      body.get("language"), str(body.get("reason", "NONE")))
            if self.on_change is not None:
                await self.on_change(changed)
            return web.json_response([t.json() for t in changed])

        app.router.add_post("/{version}/{waba_id}/message_templates", create)
        app.router.add_get("/{version}/{waba_id}/message_templates", listing)
        app.router.add_post("/_stub/inbound", inbound)
        app.router.add_post("/_stub/templates/{name}/status", set_status)


class RefusedError(ValueError):
    """A request Meta would refuse, with its answer."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def _check_components(components: list[Any]) -> None:
    body = [c for c in components if isinstance(c, dict) and c.get("type") == "BODY"]
    if len(body) != 1 or not isinstance(body[0].get("text"), str):
        raise RefusedError(Refusal(400, 100, "(#100) exactly one BODY with text"))
    params = _PARAM.findall(body[0]["text"])
    examples = ((body[0].get("example") or {}).get("body_text") or [[]])[0]
    if params and len(examples) != len(set(params)):
        raise RefusedError(Refusal(400, 100, "(#100) Invalid parameter: example.body_text "
                                             "must give one example per parameter"))
    for c in components:
        if isinstance(c, dict) and c.get("type") == "BUTTONS":
            for b in c.get("buttons", []):
                text = b.get("text")
                if b.get("type") == "QUICK_REPLY" and not (
                        isinstance(text, str) and 0 < len(text) <= 25):
                    raise RefusedError(Refusal(400, 100, "(#100) quick reply text: 1..25"))


def error(refusal: Refusal) -> web.Response:
    """Meta's error envelope for ``refusal``."""
    return web.json_response(status=refusal.status, data={"error": {
        "message": refusal.message, "type": "OAuthException", "code": refusal.code,
        "error_data": {"messaging_product": "whatsapp", "details": refusal.message},
        "fbtrace_id": "stub"}})
