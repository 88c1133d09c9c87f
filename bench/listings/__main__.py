"""Benchmark: nearest-10 searches over 100,000 live listings, index against brute force.

    .venv/bin/python -m bench.listings [--listings 100000] [--searches 2000] [--scans 40]

One run, one process, no broker or database. It builds ``--listings`` random listings of
one kind around Rwanda (half in a dense cluster over Kigali, a sixth around five other
towns, a third spread over the country; about 5% already expired at the search time),
feeds them to a ``ListingIndex``, and draws search points from the same mixture (seekers
are where listings are). Then, on the same listings and the same points:

1. ``ListingIndex.search``: the nearest 10 within ``--radius`` km, ``--searches`` times;
   and again with a price ceiling that about a fifth of the listings meet;
2. brute force: ``streams.listings.scan`` (every listing: filters, then haversine),
   ``--scans`` times, as the definition of the answer; each of its answers is compared
   with the index's (a mismatch is printed and makes the run fail: it is a bug, not a
   timing);
3. a stronger baseline, for information: a scan that compares every listing's latitude
   and longitude with the search circle's bounding box before computing any distance.

It prints p50, p99 and the mean per search (ms), the ratios brute force / index, and the
memory tracemalloc counts for the listings themselves and for the index on top of them.
The goals (p99 < 2 ms, > 50x faster than brute force) are printed, never enforced:
absolute numbers on a shared 2-core machine mean little, so the load average is printed
too.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import NamedTuple

from streams.engine.common import haversine_km
from streams.listings import Hit, Listing, ListingIndex, Query, scan
from streams.listings.filters import at_most
from streams.listings.geo import box_around
from streams.listings.index import DEFAULT_CELL_DEG
from streams.listings.model import rank

DAY = 86400.0
NOW = 1_767_600_000.0
RWANDA = ((-2.85, -1.04), (28.85, 30.90))
KIGALI = (-1.9441, 30.0619)
TOWNS = [
    (-1.4997, 29.6344),
    (-2.5967, 29.7394),
    (-1.7025, 29.2564),
    (-2.4846, 28.9075),
    (-1.2983, 30.3272),
]  # Musanze, Huye, Rubavu, Rusizi, Nyagatare


def point(rng: random.Random) -> tuple[float, float]:
    """A point of the mixture: Kigali 1/2, another town 1/6, anywhere in Rwanda 1/3."""
    u = rng.random()
    if u < 0.5:
        lat, lon = rng.gauss(KIGALI[0], 0.05), rng.gauss(KIGALI[1], 0.05)
    elif u < 2 / 3:
        town = rng.choice(TOWNS)
        lat, lon = rng.gauss(town[0], 0.03), rng.gauss(town[1], 0.03)
    else:
        (lat0, lat1), (lon0, lon1) = RWANDA
        lat, lon = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)
    return lat, lon


def listings(n: int, rng: random.Random) -> list[Listing]:
    made = []
    for i in range(n):
        lat, lon = point(rng)
        posted = NOW - rng.uniform(0.0, 14.7 * DAY)  # ~5% are past their 14 days
        made.append(
            Listing(
                f"job-{i}",
                f"2507{rng.randrange(10**8):08d}",
                "job",
                lat,
                lon,
                posted,
                posted + 14 * DAY,
                fields={"title": f"job {i}", "pay": rng.randrange(1000, 50000, 500)},
            )
        )
    return made


def box_scan(items: Sequence[Listing], query: Query, now: float) -> list[Hit]:
    """Brute force with a bounding-box test before any distance (same answer as scan)."""
    box = box_around(query.lat, query.lon, query.radius_km)
    lat_min, lat_max = box.lat_min, box.lat_max
    (w1, e1), (w2, e2) = (box.lon_ranges * 2)[:2]  # one range: the same one twice
    hits = []
    for x in items:
        if not lat_min <= x.lat <= lat_max:
            continue
        if not (w1 <= x.lon <= e1 or w2 <= x.lon <= e2):
            continue
        if query.admits(x, now):
            km = haversine_km(query.lat, query.lon, x.lat, x.lon)
            if km <= query.radius_km:
                hits.append(Hit(x, km))
    hits.sort(key=rank)
    return hits[: query.k]


class Timed(NamedTuple):
    wall_ms: list[float]
    cpu_ms: list[float]  # this thread's CPU time: leaves out the time other processes ran
    answers: list[list[Hit]]


def timed(search: Callable[[Query, float], list[Hit]], queries: Sequence[Query]) -> Timed:
    """Wall and CPU milliseconds per search, and the answers."""
    gc.collect()
    out = Timed([], [], [])
    for q in queries:
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        out.answers.append(search(q, NOW))
        c1, t1 = time.thread_time_ns(), time.perf_counter_ns()
        out.wall_ms.append((t1 - t0) / 1e6)
        out.cpu_ms.append((c1 - c0) / 1e6)
    return out


def stats(times: list[float]) -> tuple[float, float, float]:
    s = sorted(times)
    return s[len(s) // 2], s[max(0, math.ceil(0.99 * len(s)) - 1)], sum(s) / len(s)


def line(name: str, run: Timed) -> tuple[float, float, float]:
    """Print and return (p50, p99, mean) of the wall times; the CPU p99 beside them."""
    p50, p99, mean = stats(run.wall_ms)
    cpu99 = stats(run.cpu_ms)[1]
    print(
        f"  {name:<28} n={len(run.wall_ms):<5} p50 {p50:8.3f} ms  p99 {p99:8.3f} ms"
        f"  mean {mean:8.3f} ms  (CPU p99 {cpu99:8.3f} ms)"
    )
    return p50, p99, mean


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.listings",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--searches", type=int, default=2000)
    ap.add_argument("--scans", type=int, default=40, help="brute-force searches (slow)")
    ap.add_argument("--radius", type=float, default=10.0, help="search radius, km")
    ap.add_argument("--cell", type=float, default=DEFAULT_CELL_DEG, help="grid cell, degrees")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)  # noqa: S311 (reproducible data, not secrets)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores shared)")

    tracemalloc.start()
    items = listings(args.listings, rng)
    listing_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    index = ListingIndex(cell_deg=args.cell)
    for x in items:
        index.add(x)
    build_s = time.perf_counter() - t0
    index_bytes = tracemalloc.get_traced_memory()[0] - listing_bytes
    tracemalloc.stop()
    live = sum(1 for x in items if x.live(NOW))
    print(f"{len(items)} listings ({live} live at search time), grid cell {args.cell} deg")
    print(
        f"memory (tracemalloc): listings {listing_bytes / 1e6:.1f} MB, index on top of "
        f"them {index_bytes / 1e6:.1f} MB ({index_bytes / len(items):.0f} B per listing); "
        f"index built in {build_s:.2f} s (traced)"
    )

    plain = [Query("job", *point(rng), args.radius) for _ in range(args.searches)]
    ceiling = at_most("pay", 10_000)
    priced = [Query("job", q.lat, q.lon, args.radius, where=ceiling) for q in plain]

    print(f"\nnearest 10 within {args.radius} km:")
    by_index = timed(index.search, plain)
    i50, i99, imean = line("index", by_index)
    by_scan = timed(lambda q, now: scan(items, q, now), plain[: args.scans])
    s50, _, smean = line("brute force (scan)", by_scan)
    by_box = timed(lambda q, now: box_scan(items, q, now), plain[: args.scans])
    b50, _, bmean = line("brute force, box test first", by_box)
    print("\nnearest 10 within the radius, pay <= 10,000:")
    priced_index = timed(index.search, priced)
    line("index", priced_index)
    priced_scan = timed(lambda q, now: scan(items, q, now), priced[: args.scans])
    line("brute force (scan)", priced_scan)

    pairs = [
        *zip(by_index.answers, by_scan.answers, strict=False),
        *zip(by_index.answers, by_box.answers, strict=False),
        *zip(priced_index.answers, priced_scan.answers, strict=False),
    ]
    wrong = sum(a != b for a, b in pairs)
    hits = sum(map(len, by_index.answers)) / len(by_index.answers)
    print(
        f"\nanswers: {hits:.1f} hits per search on average; {len(pairs) - wrong} of "
        f"{len(pairs)} brute-force answers equal the index's"
    )
    print(
        f"ratio brute force / index: p50 {s50 / i50:.0f}x, mean {smean / imean:.0f}x "
        f"(with a box test: p50 {b50 / i50:.0f}x, mean {bmean / imean:.0f}x)"
    )
    print(
        f"goals: p99 < 2 ms: {'met' if i99 < 2.0 else 'NOT met'} ({i99:.3f} ms); "
        f"> 50x faster than brute force: {'met' if s50 / i50 > 50 else 'NOT met'}"
    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
