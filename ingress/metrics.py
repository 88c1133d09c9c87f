"""Prometheus metrics of one ingress app (its own registry, so apps never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_MAX_TYPE_LABELS = 200


class IngressMetrics:
    """Requests by status, request latency, events by type, produce latency, readiness."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("wastream_ingress_requests", "HTTP requests by route and status",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("wastream_ingress_request_seconds", "POST /webhook latency",
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.events = Counter("wastream_ingress_events", "Events produced to wa.inbound by type",
                              ["type"], registry=self.registry)
        self.produce = Histogram("wastream_ingress_produce_seconds",
                                 "Time until Kafka acknowledged every record of a body",
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.ready = Gauge("wastream_ingress_broker_ready", "1 when the producer reached Kafka",
                           registry=self.registry)
        self._types: set[str] = set()

    def count_events(self, types: dict[str, int]) -> None:
        """Add per-type counts; past a bound, new types share the label ``other`` (a
        label per distinct type must not grow without limit)."""
        for t, n in types.items():
            if t not in self._types:
                if len(self._types) >= _MAX_TYPE_LABELS:
                    t = "other"
                else:
                    self._types.add(t)
            self.events.labels(t).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
