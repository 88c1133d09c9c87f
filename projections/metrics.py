"""The projector's metrics: rows written and records refused per projection, and its lag
per projection and per partition.

The projector keeps its offsets in PostgreSQL, not in Kafka, so its lag is measured
here rather than by the broker-side probe (``wastream.observability.lag``): for each
assigned partition, the log end the consumer last fetched (``highwater``) minus the
next offset written to PostgreSQL. Read at scrape time, so it is as fresh as the last
fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client import REGISTRY, CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from projections.base import Projection

ROWS = Counter("wastream_projector_rows_total",
               "Records folded into a projection's tables", ["projection"])
ERRORS = Counter("wastream_projector_errors_total",
                 "Records a projection refused (kept in projection_errors and skipped)",
                 ["projection"])

#: (logical topic, partition) -> (broker topic, log end last fetched, next offset written)
Positions = Mapping[tuple[str, int], tuple[str, int | None, int | None]]


class ProjectorLag(Collector):
    """``wastream_projector_lag{projection}`` and ``wastream_consumer_lag{group, topic,
    partition}`` of the projector's group, from ``positions()`` at each scrape."""

    def __init__(self, group: str, projections: Sequence[Projection],
                 positions: Callable[[], Positions],
                 registry: CollectorRegistry = REGISTRY) -> None:
        self.group = group
        self.readers = {p.name: tuple(p.topics) for p in projections}
        self.positions = positions
        registry.register(self)

    def lags(self) -> dict[tuple[str, int], tuple[str, int]]:
        """(logical topic, partition) -> (broker topic, lag) of every partition known."""
        out = {}
        for tp, (topic, end, written) in self.positions().items():
            if end is not None:
                out[tp] = (topic, max(0, end - (written or 0)))
        return out

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lags = self.lags()
        per = GaugeMetricFamily("wastream_projector_lag",
                                "Records of a projection's topics not yet written to PostgreSQL",
                                labels=["projection"])
        for name, topics in self.readers.items():
            per.add_metric([name], sum(n for (t, _), (_, n) in lags.items() if t in topics))
        yield per
        consumer = GaugeMetricFamily(
            "wastream_consumer_lag",
            "Records in a partition not yet consumed by a consumer group (log end minus "
            "committed)", labels=["group", "topic", "partition"])
        for (_, part), (topic, n) in sorted(lags.items()):
            consumer.add_metric([self.group, topic, str(part)], n)
        yield consumer
