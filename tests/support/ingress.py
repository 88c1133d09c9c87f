"""Running the ingress app in-process (aiohttp's test server) against a real broker."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer

from ingress.app import HEALTH, make_app, server_options
from tests.support import kafka as tk
from tests.support.system import APP_SECRET, VERIFY_TOKEN
from tests.support.webhooks import sign
from wastream.admin import delete_prefixed, ensure_topics
from wastream.config import Settings


@dataclass
class Ingress:
    """An in-process ingress on its own topic prefix."""

    client: TestClient[Any, Any]
    settings: Settings
    health: TestClient[Any, Any]  # the health port: /healthz, /readyz, /metrics

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap_servers

    async def post(self, body: bytes, *, secret: str | None = APP_SECRET,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST ``body`` signed with ``secret`` (unsigned when None); (status, JSON body)."""
        hdrs = {"Content-Type": "application/json"}
        if secret is not None:
            hdrs["X-Hub-Signature-256"] = sign(body, secret)
        hdrs.update(headers or {})
        async with self.client.post("/webhook", data=body, headers=hdrs) as r:
            raw = await r.read()
            try:
                return r.status, orjson.loads(raw)
            except orjson.JSONDecodeError:
                return r.status, raw.decode(errors="replace")

    async def read(self, logical_topic: str, **kw: Any) -> list[tk.Record]:
        return await tk.read_topic(self.bootstrap, self.settings.topic(logical_topic), **kw)

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            async with self.client.get("/readyz") as r:
                if r.status == 200:
                    return
            await asyncio.sleep(0.2)
        raise AssertionError(f"ingress not ready after {timeout_s}s")


def settings_for(bootstrap: str, prefix: str, **extra: str) -> Settings:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "WASTREAM_TOPIC_PREFIX": prefix,
        "WASTREAM_PARTITIONS": "2",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
    }
    env.update(extra)
    return Settings.from_env({k: v for k, v in env.items() if v != ""})


@contextlib.asynccontextmanager
async def running_ingress(bootstrap: str, *, create_topics: bool = True, wait_ready: bool = True,
                          insecure_dev: bool = False, **extra: str) -> AsyncIterator[Ingress]:
    """An ingress app on a fresh prefix (topics created and deleted unless told not to).
    ``extra``: environment variables, e.g. WASTREAM_INGRESS_PRODUCE_TIMEOUT_S="2"."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = settings_for(bootstrap, prefix, **extra)
    if create_topics:
        await ensure_topics(settings)
    app = make_app(settings, insecure_dev=insecure_dev)
    server = TestServer(app)
    # The server's options as `wastream ingress` sets them (TestServer's constructor
    # would drop them: they go to start_server, which the client then skips).
    await server.start_server(**server_options(settings))
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    health: TestClient[Any, Any] = TestClient(TestServer(app[HEALTH].app()))
    await health.start_server()
    ing = Ingress(client, settings, health)
    try:
        if wait_ready:
            await ing.wait_ready()
        yield ing
    finally:
        await client.close()
        await health.close()
        if create_topics:
            with contextlib.suppress(Exception):
                await delete_prefixed(bootstrap, prefix)
