"""``/healthz``, ``/readyz`` and ``/metrics`` of a service, on ``WASTREAM_HEALTH_PORT``
(bound to ``WASTREAM_HEALTH_HOST``, 127.0.0.1 by default; no endpoint when the port is
unset, so services started side by side on one machine never collide).

The endpoint runs in the service's own event loop: ``/healthz`` answering means the loop
turns; ``/readyz`` asks the service's readiness checks (each a coroutine returning True
when its dependency is usable) and answers 503 with the failing ones; ``/metrics`` is
Prometheus' text format of the process's default registry (which holds the process
metrics: CPU, memory, open files) and of any registry the service adds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

import orjson
from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from wastream.config import Settings

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


class HealthEndpoint:
    """One service's health and metrics endpoint: :meth:`start` binds it, :meth:`stop`
    closes it."""

    def __init__(self, service: str, checks: Mapping[str, Check] | None = None,
                 registries: Sequence[CollectorRegistry] = (REGISTRY,),
                 check_timeout_s: float = 2.0) -> None:
        self.service = service
        self.checks = dict(checks or {})
        self.registries = tuple(registries)
        self.check_timeout_s = check_timeout_s
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _healthz(self, request: web.Request) -> web.Response:
        return _json({"ok": True, "service": self.service})

    async def ready(self) -> dict[str, bool]:
        """Each check's verdict (a check that raises or times out is False)."""
        out: dict[str, bool] = {}
        for name, check in self.checks.items():
            try:
                out[name] = bool(await asyncio.wait_for(check(), self.check_timeout_s))
            except Exception:  # any failure means "not ready", said in the answer
                out[name] = False
        return out

    async def _readyz(self, request: web.Request) -> web.Response:
        verdicts = await self.ready()
        ok = all(verdicts.values())
        return _json({"ready": ok, "service": self.service, **verdicts}, 200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = b"".join(generate_latest(r) for r in self.registries)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("health and metrics on http://%s:%s/ (healthz, readyz, metrics)", host, port,
                 extra={"service": self.service})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def start_from(settings: Settings, endpoint: HealthEndpoint) -> bool:
    """Start ``endpoint`` on ``settings.observability``'s port; False (nothing started)
    when ``WASTREAM_HEALTH_PORT`` is unset."""
    obs = settings.observability
    if obs.health_port is None:
        return False
    await endpoint.start(obs.health_host, obs.health_port)
    return True
