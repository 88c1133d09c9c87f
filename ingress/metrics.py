"""Prometheus metrics of one ingress app (its own registry, so apps never collide)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_MAX_TYPE_LABELS = 200


class LoopHistogram(Collector):
    """A Prometheus histogram observed from one event loop: ``observe`` is a bisect and
    two additions (prometheus_client's Histogram takes a lock and walks every bucket,
    about 2 us, paid twice per webhook). The exposition is the same (``_bucket``,
    ``_count``, ``_sum``)."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...],
                 registry: CollectorRegistry) -> None:
        self.name, self.documentation = name, documentation
        self.bounds = tuple(sorted(buckets))
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        registry.register(self)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # le is inclusive
        self.sum += value

    def collect(self) -> Iterator[HistogramMetricFamily]:
        cumulative, acc = [], 0
        for bound, n in zip((*map(str, self.bounds), "+Inf"), self.counts, strict=True):
            acc += n
            cumulative.append((bound, acc))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=cumulative,
                                    sum_value=self.sum)


class IngressMetrics:
    """Requests by status, request latency, events by type, produce latency, readiness."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("wastream_ingress_requests", "HTTP requests by route and status",
                                ["route", "status"], registry=self.registry)
        self.latency = LoopHistogram("wastream_ingress_request_seconds", "POST /webhook latency",
                                     _LATENCY_BUCKETS, self.registry)
        self.events = Counter("wastream_ingress_events", "Events produced to wa.inbound by type",
                              ["type"], registry=self.registry)
        self.produce = LoopHistogram("wastream_ingress_produce_seconds",
                                     "Time until Kafka acknowledged every record of a body",
                                     _LATENCY_BUCKETS, self.registry)
        self.ready = Gauge("wastream_ingress_broker_ready", "1 when the producer reached Kafka",
                           registry=self.registry)
        self._types: set[str] = set()
        # labels() costs a lock and a dict lookup per call: keep the children we use.
        self._request_children: dict[tuple[str, str], Counter] = {}
        self._event_children: dict[str, Counter] = {}

    def count_request(self, route: str, status: int) -> None:
        key = (route, str(status))
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(*key)
        child.inc()

    def count_events(self, types: dict[str, int]) -> None:
        """Add per-type counts; past a bound, new types share the label ``other`` (a
        label per distinct type must not grow without limit)."""
        for t, n in types.items():
            child = self._event_children.get(t)
            if child is None:
                label = t
                if t not in self._types:
                    if len(self._types) >= _MAX_TYPE_LABELS:
                        label = "other"
                    else:
                        self._types.add(t)
                child = self._event_children[t] = self.events.labels(label)
            child.inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
