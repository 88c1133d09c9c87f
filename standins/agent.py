"""A local stand-in for an OpenAI-compatible chat-completions endpoint, for tests and
``make run``.

It serves ``POST /v1/chat/completions`` on loopback and checks each request the way the
real endpoint would refuse it: a bearer token when one is configured; a ``model``; a
non-empty ``messages`` list of ``{role, content}`` with a user message; a
``response_format`` of type ``json_schema`` whose schema strict structured outputs
accept (an object, every property required, ``additionalProperties`` false). A bad
request gets 400 (401 for the token) with OpenAI's error envelope
(https://platform.openai.com/docs/api-reference/chat/create).

Its answer is a chat completion whose content is what the rule-based backend understands
of the last user message, so it is deterministic and means something. It can be told to
fail for the next N requests (:meth:`AgentStub.fail`, or ``POST /_stub/faults``): an HTTP
status, a delay, or a 200 whose content is invalid JSON or off the schema.
``GET /_stub/requests`` lists what it received. Run it with ``wastream agent-stub --port N``
or in-process (``await AgentStub().start()``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from aiohttp import web

from standins.server import listen
from streams.understanding.places import Resolver, gazetteer, no_places
from streams.understanding.rules import RuleBased
from streams.understanding.schema import wire

log = logging.getLogger(__name__)

ROLES = {"system", "developer", "user", "assistant", "tool"}
_SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
Answer = Literal["invalid_json", "wrong_schema", "not_a_completion"]


@dataclass
class Fault:
    """The answer to the next ``count`` requests: after ``delay_s`` (longer than the
    client's timeout: a timeout), an HTTP ``status`` error, or with status 200 a
    completion whose content is ``answer`` (invalid JSON, off the schema, or a body that
    is no completion at all)."""

    count: int
    status: int = 500
    delay_s: float = 0.0
    answer: Answer | None = None


@dataclass
class Seen:
    body: Any
    answer: int
    at: float = field(default_factory=time.time)


class RequestError(ValueError):
    """The request is not one the real endpoint would accept."""


def _need(cond: bool, msg: str) -> None:
    if not cond:
        raise RequestError(msg)


def validate(body: Any) -> str:
    """Check a chat-completions request body; return the last user message."""
    _need(isinstance(body, dict), "the body must be a JSON object")
    _need(isinstance(body.get("model"), str) and bool(body["model"]),
          "you must provide a model parameter")
    messages = body.get("messages")
    _need(isinstance(messages, list) and bool(messages), "'messages' must be a non-empty array")
    for i, m in enumerate(messages):
        _need(isinstance(m, dict) and m.get("role") in ROLES,
              f"messages[{i}].role must be one of {sorted(ROLES)}")
        _need(isinstance(m.get("content"), str), f"messages[{i}].content must be a string")
    users = [m["content"] for m in messages if m["role"] == "user"]
    _need(bool(users), "at least one message with role 'user' is required")
    fmt = body.get("response_format")
    _need(isinstance(fmt, dict) and fmt.get("type") == "json_schema",
          "response_format must be {'type': 'json_schema', 'json_schema': {...}}")
    spec = fmt.get("json_schema")
    _need(isinstance(spec, dict), "response_format.json_schema is required")
    _need(isinstance(spec.get("name"), str) and bool(_SCHEMA_NAME.match(spec["name"])),
          "response_format.json_schema.name: 1..64 of a-z, A-Z, 0-9, _ and -")
    schema = spec.get("schema")
    _need(isinstance(schema, dict) and schema.get("type") == "object",
          "response_format.json_schema.schema must be an object schema")
    if spec.get("strict"):
        _check_strict(schema)
    return str(users[-1])


def _check_strict(schema: dict[str, Any]) -> None:
    props = schema.get("properties")
    if not isinstance(props, dict):
        raise RequestError("strict schema: 'properties' is required")
    _need(schema.get("additionalProperties") is False,
          "strict schema: 'additionalProperties' must be false")
    required = schema.get("required")
    _need(isinstance(required, list) and sorted(map(str, required)) == sorted(props),
          "strict schema: every property must be listed in 'required'")


def openai_error(status: int, message: str, code: str | None = None,
                 kind: str = "invalid_request_error") -> web.Response:
    return web.json_response(status=status, data={"error": {
        "message": message, "type": kind, "param": None, "code": code}})


@dataclass
class AgentStub:
    """The stand-in server. ``token`` None accepts any request without a bearer token."""

    token: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    resolve_place: Resolver = no_places
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.rules = RuleBased(self.resolve_place)

    def fail(self, count: int, status: int = 500, delay_s: float = 0.0,
             answer: Answer | None = None) -> None:
        self.faults.append(Fault(count, status if answer is None else 200, delay_s, answer))

    @property
    def url(self) -> str:
        """What ``WASTREAM_AGENT_URL`` should say."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def answered(self) -> list[Seen]:
        return [s for s in self.seen if s.answer == 200]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_post("/_stub/faults", self._set_faults)
        app.router.add_get("/_stub/requests", self._requests)
        return app

    async def start(self) -> AgentStub:
        self._runner, self.port = await listen(self.app(), self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _next_fault(self) -> Fault | None:
        while self.faults and self.faults[0].count <= 0:
            self.faults.pop(0)
        if not self.faults:
            return None
        self.faults[0].count -= 1
        return self.faults[0]

    async def _completions(self, request: web.Request) -> web.Response:
        if self.token is not None and \
                request.headers.get("Authorization") != f"Bearer {self.token}":
            self.seen.append(Seen(None, 401))
            return openai_error(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            self.seen.append(Seen(None, 400))
            return openai_error(400, "We could not parse the JSON body of your request.")
        try:
            text = validate(body)
        except RequestError as exc:
            self.seen.append(Seen(body, 400))
            return openai_error(400, str(exc))
        fault = self._next_fault()
        content = orjson.dumps(wire(self.rules.read(text))).decode()
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status != 200:
                self.seen.append(Seen(body, fault.status))
                return openai_error(fault.status, f"stub fault {fault.status}", None,
                                    "server_error")
            if fault.answer == "not_a_completion":
                self.seen.append(Seen(body, 200))
                return web.Response(text="<html>502 Bad Gateway</html>",
                                    content_type="text/html")
            if fault.answer == "invalid_json":
                content = content[: len(content) // 2]
            elif fault.answer == "wrong_schema":
                content = orjson.dumps({"intent": "find_plumber", "where": "Kicukiro"}).decode()
        self.seen.append(Seen(body, 200))
        return web.json_response(self._completion(str(body["model"]), content))

    def _completion(self, model: str, content: str) -> dict[str, Any]:
        return {"id": f"chatcmpl-stub{next(self._ids):08d}", "object": "chat.completion",
                "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": content,
                                         "refusal": None}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}

    async def _set_faults(self, request: web.Request) -> web.Response:
        for f in orjson.loads(await request.read()):
            self.fail(int(f.get("count", 1)), int(f.get("status", 500)),
                      float(f.get("delay_s", 0)), f.get("answer"))
        return web.json_response({"queued": len(self.faults)})

    async def _requests(self, request: web.Request) -> web.Response:
        return web.json_response([{"body": s.body, "answer": s.answer} for s in self.seen])


def serve(host: str, port: int, token: str | None) -> int:
    """Run the stand-in until interrupted (``wastream agent-stub``); places come from the
    gazetteer when ``streams.places`` is present."""
    logging.basicConfig(level=logging.INFO)
    resolve = gazetteer()
    if resolve is None:
        log.warning("streams.places is not present: the stand-in understands no place")
    stub = AgentStub(token=token, host=host, port=port, resolve_place=resolve or no_places)
    web.run_app(stub.app(), host=host, port=port, print=lambda *_: None)
    return 0
