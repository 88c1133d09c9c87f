"""The ingress's loop histogram and counter expose what prometheus_client's Histogram and
Counter would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from ingress.metrics import _MAX_TYPE_LABELS, IngressMetrics, LoopCounter, LoopHistogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.1, 1.0)


def _samples(registry: CollectorRegistry) -> list[str]:
    return sorted(line for line in generate_latest(registry).decode().splitlines()
                  if line.startswith("h_") and "_created" not in line)


def test_loop_histogram_matches_prometheus_histogram() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    fast = LoopHistogram("h", "doc", BUCKETS, ours)
    ref = Histogram("h", "doc", buckets=BUCKETS, registry=theirs)
    for v in (0.0, 0.001, 0.0011, 0.0025, 0.004, 0.02, 1.0, 3.5, 0.5):  # edges inclusive
        fast.observe(v)
        ref.observe(v)
    got = _samples(ours)
    assert got == _samples(theirs)
    assert 'h_bucket{le="0.001"} 2.0' in got
    assert "h_count 9.0" in got


def test_loop_counter_matches_prometheus_counter() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    fast = LoopCounter("c", "doc", ("route", "status"), ours)
    ref = Counter("c", "doc", ["route", "status"], registry=theirs)
    for labels, n in ((("/webhook", "200"), 1), (("/webhook", "400"), 1),
                      (("/webhook", "200"), 3), (("unmatched", "404"), 2.5)):
        fast.inc(labels, n)
        ref.labels(*labels).inc(n)

    def samples(registry: CollectorRegistry) -> list[str]:
        return sorted(line for line in generate_latest(registry).decode().splitlines()
                      if not line.startswith("c_created"))

    got = samples(ours)
    assert got == samples(theirs)
    assert 'c_total{route="/webhook",status="200"} 4.0' in got
    created = [line for line in generate_latest(ours).decode().splitlines()
               if line.startswith("c_created")]
    assert len(created) == 3


def test_event_type_labels_are_bounded() -> None:
    metrics = IngressMetrics()
    metrics.count_events({f"unknown.f{i}": 1 for i in range(_MAX_TYPE_LABELS + 5)})
    metrics.count_events({"unknown.f0": 2, f"unknown.f{_MAX_TYPE_LABELS + 1}": 1})
    text = metrics.render().decode()
    assert 'wastream_ingress_events_total{type="unknown.f0"} 3.0' in text
    assert 'wastream_ingress_events_total{type="other"} 6.0' in text
    assert text.count("wastream_ingress_events_total{") == _MAX_TYPE_LABELS + 1
