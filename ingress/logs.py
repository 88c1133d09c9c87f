"""The ingress's log lines: those of every service (``wastream.observability.logs``), with
the request's correlation id on every one of them."""

from __future__ import annotations

from wastream.observability.logs import JsonFormatter, configure, configure_from, correlation_id

__all__ = ["JsonFormatter", "configure", "configure_from", "correlation_id"]
