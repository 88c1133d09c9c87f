"""The ``wastream graph-stub`` and ``wastream dlq serve`` sub-commands as processes."""

from __future__ import annotations

import os
import subprocess
import sys

import aiohttp

from tests.support.system import REPO, Service, free_port, wait_http


def start(*args: str, env: dict[str, str] | None = None) -> Service:
    log = REPO / ".wastream" / "test-logs" / f"cli-{args[0]}-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wastream.cli", *args], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO,
                                env={**os.environ, **(env or {})})
    return Service(args[0], proc, log)


async def test_graph_stub_command_serves_and_fails_on_request() -> None:
    port = free_port()
    svc = start("graph-stub", "--port", str(port), "--token", "T")
    try:
        wait_http(f"http://127.0.0.1:{port}/_stub/requests", svc)
        url = f"http://127.0.0.1:{port}/v21.0/123/messages"
        body = {"messaging_product": "whatsapp", "to": "2507", "type": "text",
                "text": {"body": "hi"}}
        auth = {"Authorization": "Bearer T"}
        async with aiohttp.ClientSession() as s:
            async with s.post(url, json=body, headers=auth) as r:
                assert r.status == 200
                assert (await r.json())["messages"][0]["id"].startswith("wamid.")
            async with s.post(f"http://127.0.0.1:{port}/_stub/faults",
                              json=[{"count": 1, "status": 400, "code": 131047}]) as r:
                assert r.status == 200
            async with s.post(url, json=body, headers=auth) as r:
                assert r.status == 400
                assert (await r.json())["error"]["code"] == 131047
            async with s.post(url, json=body) as r:
                assert r.status == 401
    finally:
        svc.stop()


async def test_dlq_serve_command_requires_the_token() -> None:
    port = free_port()
    svc = start("dlq", "serve", "--port", str(port),
                env={"WASTREAM_ADMIN_TOKEN": "secret", "WASTREAM_TOPIC_PREFIX": "tcli."})
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", svc)
        async with aiohttp.ClientSession() as s:
            async with s.get(f"http://127.0.0.1:{port}/dlq") as r:
                assert r.status == 401
            async with s.get(f"http://127.0.0.1:{port}/dlq/x:0:0",
                             headers={"Authorization": "Bearer wrong"}) as r:
                assert r.status == 401
    finally:
        svc.stop()
