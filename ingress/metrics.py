"""Prometheus metrics of one ingress app (its own registry, so apps never collide)."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_MAX_TYPE_LABELS = 200


class HasType(Protocol):
    @property
    def type(self) -> str: ...


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


class LoopCounter(Collector):
    """A labelled Prometheus counter incremented from one event loop: ``inc`` is a dict
    update (prometheus_client's Counter takes a lock per increment, and its ``labels``
    another, three times per webhook). The exposition is the same (``_total`` and
    ``_created`` per label set)."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...],
                 registry: CollectorRegistry) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, labelnames
        self.values: dict[tuple[str, ...], float] = {}
        self.created: dict[tuple[str, ...], float] = {}
        registry.register(self)

    def inc(self, labels: tuple[str, ...], amount: float = 1.0) -> None:
        value = self.values.get(labels)
        if value is None:
            self.created[labels] = time.time()
            value = 0.0
        self.values[labels] = value + amount

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in self.values.items():
            family.add_metric(list(labels), value, created=self.created[labels])
        yield family


class IngressMetrics:
    """Requests by status, request latency, events by type, stale updates dropped,
    produce latency, readiness."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = LoopCounter("wastream_ingress_requests",
                                    "HTTP requests by route and status", ("route", "status"),
                                    self.registry)
        self.latency = LoopHistogram("wastream_ingress_request_seconds", "POST /webhook latency",
                                     _LATENCY_BUCKETS, self.registry)
        self.events = LoopCounter("wastream_ingress_events",
                                  "Events produced to wa.inbound by type", ("type",),
                                  self.registry)
        self.stale = LoopCounter("wastream_ingress_stale_updates",
                                 "Signed updates dropped as older than the dedupe window, by "
                                 "family (message, status, ...); their bodies are kept on "
                                 "wa.webhooks.raw", ("family",), self.registry)
        self.refused = LoopCounter("wastream_ingress_bodies_refused",
                                   "Request bodies not read: busy (every reading slot taken) "
                                   "or body_timeout (not whole within the deadline)",
                                   ("reason",), self.registry)
        self.produce = LoopHistogram("wastream_ingress_produce_seconds",
                                     "Time until Kafka acknowledged every record of a body",
                                     _LATENCY_BUCKETS, self.registry)
        self.ready = Gauge("wastream_ingress_broker_ready", "1 when the producer reached Kafka",
                           registry=self.registry)
        # type -> its label (itself, or "other" past the bound)
        self._type_labels: dict[str, tuple[str]] = {}
        self._own_labels = 0

    def count_request(self, route: str, status: int) -> None:
        self.requests.inc((route, str(status)))

    def count_events(self, types: dict[str, int]) -> None:
        """Add per-type counts; past a bound, new types share the label ``other`` (a
        label per distinct type must not grow without limit)."""
        for t, n in types.items():
            labels = self._type_labels.get(t)
            if labels is None:
                # The first _MAX_TYPE_LABELS distinct types get a label of their own.
                if self._own_labels < _MAX_TYPE_LABELS:
                    self._own_labels += 1
                    labels = (t,)
                else:
                    labels = ("other",)
                self._type_labels[t] = labels
            self.events.inc(labels, n)

    def count_refused(self, reason: str) -> None:
        self.refused.inc((reason,))

    def count_stale(self, events: Iterable[HasType]) -> None:
        """Count dropped updates by family, the part of the type before the dot (a few
        fixed values, unlike the types themselves)."""
        for e in events:
            self.stale.inc((e.type.partition(".")[0] or "other",))

    def render(self) -> bytes:
        return generate_latest(self.registry)
