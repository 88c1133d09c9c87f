"""``wastream ingress --workers 2``: two processes share the webhook port (SO_REUSEPORT),
both answer signed webhooks, each counts its own on its own health port (base + index),
and one SIGTERM to the parent stops both."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest

from schemas import topics
from tests.support import kafka as tk
from tests.support.ingress import settings_for
from tests.support.system import APP_SECRET, LOG_DIR, REPO, free_port
from tests.support.webhooks import sign, text_message_body
from wastream.admin import delete_prefixed, ensure_topics

POSTS = 60
WEBHOOK_200 = re.compile(
    r'^wastream_ingress_requests_total\{route="/webhook",status="200"\} (\S+)$', re.M)


def _two_free_ports() -> int:
    """A port P with P + 1 free as well (the children's health ports)."""
    for _ in range(50):
        p = free_port()
        with contextlib.suppress(OSError), socket.socket() as s:
            s.bind(("127.0.0.1", p + 1))
            return p
    raise AssertionError("no two consecutive free ports")


def _children(parent: int) -> list[int]:
    """The pids whose parent is ``parent`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                out.append(int(entry.name))
    return out


def _start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "wastream.cli", "ingress", "--port", str(port),
             "--workers", "2"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def _alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


async def _ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"the ingress exited with {proc.returncode}"
            with contextlib.suppress(aiohttp.ClientError):
                async with s.get(f"http://127.0.0.1:{port}/readyz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.3)
    raise AssertionError(f"health port {port} not ready after {timeout_s}s")


async def _served(health_port: int) -> float:
    async with aiohttp.ClientSession() as s, \
            s.get(f"http://127.0.0.1:{health_port}/metrics") as r:
        m = WEBHOOK_200.search(await r.text())
    return float(m.group(1)) if m else 0.0


async def test_two_workers_share_the_port_and_stop_on_one_sigterm(
        dev_stack: dict[str, str]) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = settings_for(dev_stack["bootstrap"], prefix)
    await ensure_topics(settings)
    port, health = free_port(), _two_free_ports()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTREAM_")}
    env.update({"KAFKA_BOOTSTRAP_SERVERS": dev_stack["bootstrap"],
                "WASTREAM_TOPIC_PREFIX": prefix, "WASTREAM_PARTITIONS": "2",
                "WHATSAPP_APP_SECRET": APP_SECRET, "WASTREAM_HEALTH_PORT": str(health)})
    proc = _start(port, env, LOG_DIR / f"ingress-workers-{prefix}log")
    try:
        await _ready(health, proc)
        await _ready(health + 1, proc)
        children = _children(proc.pid)
        assert len(children) == 2, children
        # A connection per request: the kernel picks a listening socket per connection.
        statuses = []
        async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True)) as s:
            for i in range(POSTS):
                body = text_message_body(f"2547{i:08d}", "hi")
                async with s.post(f"http://127.0.0.1:{port}/webhook", data=body, headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": sign(body, APP_SECRET)}) as r:
                    statuses.append(r.status)
        assert statuses == [200] * POSTS
        per_worker = [await _served(health), await _served(health + 1)]
        assert sum(per_worker) == POSTS, per_worker
        assert all(n > 0 for n in per_worker), f"one process served all: {per_worker}"
        records = await tk.read_topic(dev_stack["bootstrap"], settings.topic(topics.INBOUND),
                                      min_count=POSTS)
        assert len(records) == POSTS

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
        # The parent reaps its children: once it has exited, neither is left.
        assert _alive(children) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            for pid in _children(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait(10)
        with contextlib.suppress(Exception):
            await delete_prefixed(dev_stack["bootstrap"], prefix)


async def test_a_worker_that_dies_takes_the_group_down(dev_stack: dict[str, str]) -> None:
    """No restart: one child killed, the parent stops the other and exits non-zero, so
    that its supervisor sees the failure."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(settings_for(dev_stack["bootstrap"], prefix))
    port, health = free_port(), _two_free_ports()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTREAM_")}
    env.update({"KAFKA_BOOTSTRAP_SERVERS": dev_stack["bootstrap"],
                "WASTREAM_TOPIC_PREFIX": prefix, "WASTREAM_PARTITIONS": "2",
                "WHATSAPP_APP_SECRET": APP_SECRET, "WASTREAM_HEALTH_PORT": str(health)})
    proc = _start(port, env, LOG_DIR / f"ingress-workers-{prefix}log")
    try:
        await _ready(health, proc)
        await _ready(health + 1, proc)
        victim, other = _children(proc.pid)
        os.kill(victim, signal.SIGKILL)
        assert await asyncio.to_thread(proc.wait, 30) == 128 + signal.SIGKILL
        assert _alive([other]) == []
    finally:
        if proc.poll() is None:
            for pid in _children(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.kill()
            proc.wait(10)
        with contextlib.suppress(Exception):
            await delete_prefixed(dev_stack["bootstrap"], prefix)


@pytest.mark.parametrize("argv", [["--workers", "0"], ["--workers", "-1"]])
def test_workers_below_one_are_refused(argv: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "wastream.cli", "ingress", *argv],
                          cwd=REPO, capture_output=True, check=False, timeout=60)
    assert proc.returncode == 2
    assert b"at least 1" in proc.stderr
