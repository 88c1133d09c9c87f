"""``/metrics`` of a worker (Prometheus text format) when ``WASTREAM_METRICS_PORT`` is set:
breaker states, failure-router outcomes, tier re-publishes and whatever else the
process registered with prometheus_client. Bound to ``WASTREAM_METRICS_HOST``
(127.0.0.1 by default)."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import start_http_server

log = logging.getLogger(__name__)


def install(rt: Any) -> None:
    """``streams.worker`` hook: start the metrics endpoint (a daemon thread)."""
    port = rt.settings.observability.metrics_port
    if port:
        host = rt.settings.observability.metrics_host
        start_http_server(port, addr=host)
        log.info("metrics on http://%s:%s/metrics", host, port)
