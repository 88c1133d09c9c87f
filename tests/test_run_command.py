"""`wastream run` (what `make run` calls): the whole system comes up, the demo shows a
reply and projected rows, and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.support.system import REPO, free_port
from wastream.dev import procs


def test_run_shows_the_demo_and_stops_cleanly_on_ctrl_c(dev_stack: dict[str, str]) -> None:
    prefix = f"run{uuid.uuid4().hex[:8]}."
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASTREAM_", "WHATSAPP_"))}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": dev_stack["bootstrap"],
            "DATABASE_URL": dev_stack["database_url"],
            "DATABASE_OWNER_URL": dev_stack["database_owner_url"],
            "WASTREAM_TOPIC_PREFIX": prefix,
            "WASTREAM_DB_SCHEMA": prefix.rstrip("."),
            "WASTREAM_PARTITIONS": "2",
            # The dev stack's home (run must find the stack running, not start another).
            "WASTREAM_HOME": os.environ.get("WASTREAM_HOME") or str(REPO / ".wastream"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    console_port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wastream.cli", "run", "--port", str(free_port()),
         "--console-port", str(console_port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "the system is up" in line:
                break
        out = "".join(lines)
        assert "the system is up" in out, out
        assert "✓ webhook → Kafka → worker → reply" in out, out
        assert "1. Nearby drivers" in out  # the menu the bot sent, numbered as in chat
        assert "Postgres wa_events:" in out
        # The rows as aligned text under their column names, not Python reprs.
        events = out.split("Postgres wa_events:\n", 1)[1].splitlines()
        assert events[0].split() == ["event_id", "type", "wa_id", "received_at"], out
        assert events[1].split()[1] == "message.text", out
        assert "{'" not in out
        children = [int(p) for p in re.findall(r"started \(pid (\d+)", out)]
        assert len(children) >= 5, out  # graph stub, ingress, worker, projector, console
        assert f"console is on http://127.0.0.1:{console_port}/" in out, out
        with urllib.request.urlopen(
                f"http://127.0.0.1:{console_port}/login", timeout=5) as page:
            assert page.status == 200
            assert b"wastream console" in page.read()
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + rest
    for pid in children:
        assert not procs.alive(pid), f"pid {pid} still running after Ctrl-C"
    for name in ("ingress", "worker", "projector", "graph-stub", "console"):
        assert f"run: {name} stopped" in rest


@pytest.fixture(autouse=True)
async def _drop_run_topics(dev_stack: dict[str, str]) -> AsyncIterator[None]:
    yield
    import asyncpg

    from wastream.admin import delete_prefixed

    for topic_prefix in {t.split("wa.")[0] for t in await _run_topics(dev_stack["bootstrap"])}:
        await delete_prefixed(dev_stack["bootstrap"], topic_prefix)
    conn = await asyncpg.connect(dev_stack["database_owner_url"])
    try:
        for (schema,) in await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'run%'"
        ):
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await conn.close()


async def _run_topics(bootstrap: str) -> list[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if re.match(r"run[0-9a-f]{8}\.", t)]
    finally:
        await admin.close()
