"""The chat-completions stand-in checks what it receives, like the real endpoint would,
and runs as ``wastream agent-stub``."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from standins.agent import AgentStub, RequestError, validate
from streams.understanding.http import HttpOptions, HttpUnderstander
from streams.understanding.model import UnderstandingSession
from tests.support.system import REPO, Service, free_port, wait_http


def good() -> dict[str, Any]:
    backend = HttpUnderstander(HttpOptions("http://unused/v1", "m"))
    return backend.request("I need a plumber", "en", UnderstandingSession())


def without(path: str) -> dict[str, Any]:
    body = copy.deepcopy(good())
    *parents, last = path.split(".")
    node = body
    for p in parents:
        node = node[p]
    del node[last]
    return body


def test_our_own_request_is_accepted() -> None:
    assert validate(good()) == "I need a plumber"


@pytest.mark.parametrize(("body", "words"), [
    (without("model"), "model"),
    (without("messages"), "messages"),
    ({**good(), "messages": []}, "messages"),
    ({**good(), "messages": [{"role": "robot", "content": "x"}]}, "role"),
    ({**good(), "messages": [{"role": "system", "content": "only a system prompt"}]}, "user"),
    ({**good(), "messages": [{"role": "user"}]}, "content"),
    (without("response_format"), "response_format"),
    ({**good(), "response_format": {"type": "json_object"}}, "json_schema"),
    (without("response_format.json_schema.name"), "name"),
    (without("response_format.json_schema.schema"), "schema"),
    (without("response_format.json_schema.schema.additionalProperties"), "additionalProperties"),
    (without("response_format.json_schema.schema.required"), "required"),
    ([1, 2], "object"),
])
def test_a_request_the_real_endpoint_would_refuse_is_refused(body: Any, words: str) -> None:
    with pytest.raises(RequestError, match=words):
        validate(body)


@pytest.fixture
async def stub() -> AsyncIterator[AgentStub]:
    s = await AgentStub(token="T").start()  # noqa: S106 - a test credential
    yield s
    await s.stop()


async def test_over_http_a_bad_request_gets_an_openai_error(stub: AgentStub) -> None:
    url = f"{stub.url}/chat/completions"
    auth = {"Authorization": "Bearer T"}
    async with aiohttp.ClientSession() as s:
        async with s.post(url, json=without("response_format"), headers=auth) as r:
            assert r.status == 400
            error = (await r.json())["error"]
            assert error["type"] == "invalid_request_error"
            assert "response_format" in error["message"]
        async with s.post(url, json=good()) as r:  # no token
            assert r.status == 401
            assert (await r.json())["error"]["code"] == "invalid_api_key"
        async with s.post(url, data=b"{not json", headers=auth) as r:
            assert r.status == 400
        async with s.post(url, json=good(), headers=auth) as r:
            assert r.status == 200
            completion = await r.json()
    assert completion["object"] == "chat.completion"
    assert '"category":"plumber"' in completion["choices"][0]["message"]["content"]
    assert [s.answer for s in stub.seen] == [400, 401, 400, 200]


def start_command(port: int) -> Service:
    log = REPO / ".wastream" / "test-logs" / f"cli-agent-stub-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wastream.cli", "agent-stub", "--port",
                                 str(port)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=REPO)
    return Service("agent-stub", proc, log)


async def test_the_agent_stub_command_serves_and_fails_on_request() -> None:
    port = free_port()
    svc = start_command(port)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stub/requests", svc)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        async with aiohttp.ClientSession() as s:
            async with s.post(f"http://127.0.0.1:{port}/_stub/faults",
                              json=[{"count": 1, "status": 500}]) as r:
                assert r.status == 200
            async with s.post(url, json=good()) as r:
                assert r.status == 500
            async with s.post(url, json=good()) as r:
                assert r.status == 200
    finally:
        svc.stop()
