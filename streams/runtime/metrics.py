"""The worker's ``/healthz``, ``/readyz`` and ``/metrics`` on ``WASTREAM_HEALTH_PORT``
(``wastream.observability.health``; none when unset) and its consumer-lag probe.

``/metrics`` holds what the worker's parts register with prometheus_client (breaker
states, failure-router outcomes, dead letters by class, tier re-publishes and depth,
hole-guard fills, the sender's outcomes and latency), the process metrics, and
``wastream_consumer_lag`` of the worker's two groups: Faust's (the conversation agent,
the sender, the media agent) and the retry tiers'. ``/readyz`` is ready once the Faust
app has started and the broker answered the last lag probe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from streams.runtime import faust_internals
from wastream.observability.health import HealthEndpoint, start_from
from wastream.observability.lag import LagProbe

LAG_INTERVAL_S = 10.0


def install(rt: Any, groups: Sequence[str] = (),
            on_measured: Callable[[dict[tuple[str, str, int], int]], None] | None = None,
            ) -> LagProbe:
    """``streams.worker`` hook: the lag probe of Faust's group and ``groups`` (each
    measurement also handed to ``on_measured``), and the endpoint when a port is set."""
    settings = rt.settings
    probe = LagProbe(settings.kafka, [settings.faust_app_id, *groups],
                     interval_s=LAG_INTERVAL_S, on_measured=on_measured)

    async def started() -> bool:
        return bool(rt.app.started) and not faust_internals.rebalancing(rt.app)

    async def broker() -> bool:
        return probe.ok

    endpoint = HealthEndpoint("worker", {"started": started, "kafka": broker})

    @rt.app.task  # type: ignore[untyped-decorator]
    async def _health_and_lag() -> None:
        await start_from(settings, endpoint)
        try:
            await probe.run()
        finally:
            await endpoint.stop()

    return probe
