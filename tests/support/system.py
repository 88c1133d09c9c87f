"""One isolated wastream system per test: its own topic prefix and database schema on
the shared dev stack, and real service processes started with the ``wastream`` CLI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from schemas import topics
from tests.support import kafka as tk
from tests.support.webhooks import sign

REPO = Path(__file__).resolve().parents[2]
LOG_DIR = REPO / ".wastream" / "test-logs"
APP_SECRET = "test-app-secret"  # noqa: S105
VERIFY_TOKEN = "test-verify-token"  # noqa: S105
ADMIN_TOKEN = "test-admin-token"  # noqa: S105


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_run(n: int) -> int:
    """The first of ``n`` consecutive free ports (a dev cluster's nodes take such runs)."""
    for _attempt in range(50):
        base = free_port()
        if base + n > 65535:
            continue
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no run of {n} free ports found")


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class System:
    """A test's own wastream: ``prefix`` for topics/groups/app id, ``schema`` in Postgres."""

    bootstrap: str
    database_url: str  # the services' role: rows only
    database_owner_url: str = ""  # the schemas' owner (DDL); unset: database_url
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}.")
    partitions: int = 2
    env_overrides: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    ingress_port: int | None = None

    @property
    def owner_url(self) -> str:
        return self.database_owner_url or self.database_url

    @property
    def schema(self) -> str:
        return self.prefix.rstrip(".").replace(".", "_").replace("-", "_")

    def topic(self, logical: str) -> str:
        return self.prefix + logical

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WASTREAM_")}
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "DATABASE_URL": self.database_url,
                "DATABASE_OWNER_URL": self.owner_url,
                "WASTREAM_TOPIC_PREFIX": self.prefix,
                "WASTREAM_DB_SCHEMA": self.schema,
                "WASTREAM_PARTITIONS": str(self.partitions),
                "WASTREAM_RETRY_DELAYS": "1s,2s,3s",
                "WASTREAM_HOME": str(REPO / ".wastream"),
                "WHATSAPP_APP_SECRET": APP_SECRET,
                "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
                "WASTREAM_ADMIN_TOKEN": ADMIN_TOKEN,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.env_overrides)
        return env

    # -- set-up ---------------------------------------------------------------------

    def cli(
        self, *args: str, check: bool = True, timeout_s: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "wastream.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            cwd=REPO,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"wastream {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def create_topics(self) -> None:
        self.cli("topics")

    def migrate(self) -> None:
        self.cli("migrate")

    def start(self, name: str, *args: str) -> Service:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = LOG_DIR / f"{self.schema}-{name}-{len(self.services)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "wastream.cli", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=REPO,
            )
        svc = Service(name, proc, log)
        self.services.append(svc)
        return svc

    def start_ingress(self) -> Service:
        self.ingress_port = self.ingress_port or free_port()
        svc = self.start("ingress", "ingress", "--port", str(self.ingress_port))
        wait_http(f"http://127.0.0.1:{self.ingress_port}/healthz", svc)
        # Up is not ready: until its producer has connected the ingress rightly answers
        # 503 (Meta would retry); tests post only once it is ready.
        wait_http(f"http://127.0.0.1:{self.ingress_port}/readyz", svc)
        return svc

    def start_worker(self) -> Service:
        return self.start("worker", "worker")

    def start_projector(self) -> Service:
        return self.start("projector", "project")

    def stop_all(self) -> None:
        for svc in reversed(self.services):
            svc.stop()

    async def teardown(self, drop: bool = True) -> None:
        self.stop_all()
        if drop:
            with contextlib.suppress(Exception):
                from wastream.admin import delete_prefixed
                from wastream.config import Settings
                from wastream.config.kafka import client_args

                # The system's own connection settings (a secure broker's credentials).
                connection = client_args(Settings.from_env(self.env).kafka)
                await delete_prefixed(self.bootstrap, self.prefix, connection)
            with contextlib.suppress(Exception):
                conn = await asyncpg.connect(self.owner_url)
                try:
                    await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
                finally:
                    await conn.close()

    # -- talking to it ------------------------------------------------------------------

    @property
    def webhook_url(self) -> str:
        assert self.ingress_port is not None, "start_ingress() first"
        return f"http://127.0.0.1:{self.ingress_port}/webhook"

    async def post_webhook(
        self, body: bytes, *, secret: str = APP_SECRET, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        hdrs = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)}
        hdrs.update(headers or {})
        async with (
            aiohttp.ClientSession() as s,
            s.post(self.webhook_url, data=body, headers=hdrs) as r,
        ):
            text = await r.text()
            try:
                return r.status, await r.json(content_type=None)
            except ValueError:
                return r.status, text

    async def read(self, logical_topic: str, **kw: Any) -> list[tk.Record]:
        return await tk.read_topic(self.bootstrap, self.topic(logical_topic), **kw)

    async def db(self) -> asyncpg.Connection:
        """A connection as the services' role (rows only) in the test's schema."""
        return await asyncpg.connect(
            self.database_url, server_settings={"search_path": self.schema}
        )

    async def owner_db(self) -> asyncpg.Connection:
        """A connection as the schemas' owner (DDL) in the test's schema."""
        return await asyncpg.connect(
            self.owner_url, server_settings={"search_path": self.schema}
        )

    async def wait_rows(
        self, sql: str, min_count: int, timeout_s: float = 60.0, *args: Any
    ) -> list[asyncpg.Record]:
        """Poll ``sql`` until it returns at least ``min_count`` rows; return the last result."""
        conn = await self.db()
        try:
            deadline = time.monotonic() + timeout_s
            rows: list[asyncpg.Record] = []
            while time.monotonic() < deadline:
                with contextlib.suppress(asyncpg.UndefinedTableError):
                    rows = await conn.fetch(sql, *args)
                    if len(rows) >= min_count:
                        return rows
                await asyncio.sleep(0.2)
            return rows
        finally:
            await conn.close()


def wait_http(url: str, svc: Service, timeout_s: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not svc.alive():
            raise AssertionError(f"{svc.name} exited early:\n{svc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} not up after {timeout_s}s:\n{svc.tail()}")


ALL_TOPICS = topics.all_topics
