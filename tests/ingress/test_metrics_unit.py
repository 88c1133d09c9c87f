"""The ingress's loop histogram exposes what prometheus_client's Histogram would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from ingress.metrics import LoopHistogram

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
