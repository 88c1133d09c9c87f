"""Properties of the listing index over random data (hypothesis):

- after any sequence of changes, every search answers what a brute-force ``scan`` of a
  plain dict kept by the same rules answers: same listings, same order (ties in distance
  and in posting time included), same distances, expired listings left out; in Rwanda,
  across the antimeridian, around both poles and over the whole globe, for several cell
  sizes;
- applying every change twice leaves the index as applying it once;
- ``box_around`` holds every point of its circle.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.listings import Listing, ListingIndex, Query, Status, scan
from streams.listings.filters import at_most
from streams.listings.geo import EARTH_RADIUS_KM, box_around

REGIONS = {
    "rwanda": ((-2.85, -1.04), (28.85, 30.9)),
    "antimeridian": ((-3.0, 3.0), (179.0, 181.0)),  # lon > 180 wraps to the west side
    "north pole": ((88.5, 90.0), (-180.0, 180.0)),
    "south pole": ((-90.0, -88.5), (-180.0, 180.0)),
    "globe": ((-90.0, 90.0), (-180.0, 180.0)),
}
IDS = [f"l{i}" for i in range(12)]
OWNERS = ["o1", "o2", "o3"]
NOWS = [0.0, 4.0, 7.0, 12.0, 20.0]


def wrap(lon: float) -> float:
    return lon - 360.0 if lon > 180.0 else lon


# Module-level strategies, drawn from directly: building strategies inside each draw
# made generation, not the index, most of the test's time.
KINDS = st.sampled_from(["job", "rental"])
ONE_ID = st.sampled_from(IDS)
ONE_OWNER = st.sampled_from(OWNERS)
POSTED = st.sampled_from([0.0, 1.0, 2.0])
EXPIRES = st.sampled_from([5.0, 10.0, 15.0])
PRICES = st.sampled_from([1, 2, 3])
CHANGES = st.sampled_from([{"expires_at": 30.0}, {"fields": {"price": 3}}, {}])
# Mostly adds, so that searches have plenty to choose from.
TAGS = st.sampled_from(["add"] * 12 + ["update"] * 3 + ["close", "expire", "remove", "prune"])
RADII = st.sampled_from([0.0, 0.3, 5.0, 40.0, 300.0, 3000.0, 25000.0, math.inf])


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    (lat0, lat1), (lon0, lon1) = REGIONS[draw(st.sampled_from(sorted(REGIONS)))]

    def point() -> tuple[float, float]:
        return draw(st.floats(lat0, lat1)), wrap(draw(st.floats(lon0, lon1)))

    # A few shared points, so that equal distances (ties) are common.
    spots = [point() for _ in range(draw(st.integers(1, 4)))]

    def place() -> tuple[float, float]:
        way = draw(st.integers(0, 4))
        if way == 0:
            return point()
        lat, lon = draw(st.sampled_from(spots))
        if way <= 2:
            return lat, lon
        # Near a spot, at the scale of a cell or a few: where a search widens its circle.
        d = draw(st.sampled_from([0.001, 0.01, 0.1, 1.0]))
        lat = min(90.0, max(-90.0, lat + draw(st.floats(-d, d))))
        return lat, (lon + draw(st.floats(-d, d)) + 180.0) % 360.0 - 180.0

    ops: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(10, 50))):
        tag = draw(TAGS)
        if tag == "add":
            lat, lon = place()
            listing = Listing(
                draw(ONE_ID), draw(ONE_OWNER), draw(KINDS), lat, lon, draw(POSTED),
                draw(EXPIRES), fields={"price": draw(PRICES)},
            )  # fmt: skip
            ops.append(("add", listing))
        elif tag == "update":
            lat, lon = place()
            moved = {"lat": lat, "lon": lon} if draw(st.booleans()) else {}
            ops.append(("update", draw(ONE_ID), moved | draw(CHANGES)))
        elif tag == "prune":
            ops.append(("prune", draw(st.sampled_from([5.0, 10.0]))))
        else:
            ops.append((tag, draw(ONE_ID)))
    lat, lon = place()
    query = Query(
        draw(KINDS),
        lat,
        lon,
        draw(RADII),
        k=draw(st.integers(0, 12)),
        where=draw(st.sampled_from([None, at_most("price", 2)])),
        exclude_owner=draw(st.sampled_from([None, "o1"])),
    )
    return {
        "ops": ops,
        "query": query,
        "now": draw(st.sampled_from(NOWS)),
        "cell": draw(st.sampled_from([0.0025, 0.01, 0.3, 7.0, 90.0])),
    }


class Model:
    """The rules of ListingIndex, kept as plainly as possible: the specification."""

    def __init__(self) -> None:
        self.by_id: dict[str, Listing] = {}
        self.removed: dict[str, float] = {}

    def apply(self, op: tuple[Any, ...]) -> None:
        name, arg = op[0], op[1]
        old = self.by_id.get(arg) if isinstance(arg, str) else None
        if name == "add" and arg.id not in self.by_id and arg.id not in self.removed:
            self.by_id[arg.id] = arg
        elif name == "update" and old is not None and old.status is Status.OPEN:
            changes: Mapping[str, Any] = op[2]
            fields = {**old.fields, **changes.get("fields", {})}
            self.by_id[arg] = dataclasses.replace(old, **{**changes, "fields": fields})
        elif name in ("close", "expire") and old is not None:
            self.by_id[arg] = dataclasses.replace(old, status=Status.CLOSED)
        elif name == "remove" and old is not None:
            del self.by_id[arg]
            self.removed[arg] = old.expires_at
        elif name == "prune":
            self.by_id = {i: x for i, x in self.by_id.items() if x.expires_at > arg}
            self.removed = {i: e for i, e in self.removed.items() if e > arg}


def apply(index: ListingIndex, op: tuple[Any, ...]) -> None:
    name = op[0]
    if name == "add":
        index.add(op[1])
    elif name == "update":
        index.update(op[1], **op[2])
    elif name == "prune":
        index.prune(op[1])
    else:
        getattr(index, name)(op[1])


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_search_answers_what_a_brute_force_scan_answers(s: dict[str, Any]) -> None:
    index, model = ListingIndex(cell_deg=s["cell"]), Model()
    for op in s["ops"]:
        apply(index, op)
        model.apply(op)
    assert {i: index.get(i) for i in IDS} == {i: model.by_id.get(i) for i in IDS}
    for now in NOWS:
        assert index.search(s["query"], now) == scan(model.by_id.values(), s["query"], now)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_every_change_applied_twice_is_applied_once(s: dict[str, Any]) -> None:
    once, twice = ListingIndex(cell_deg=s["cell"]), ListingIndex(cell_deg=s["cell"])
    for op in s["ops"]:
        apply(once, op)
        apply(twice, op)
        apply(twice, op)
    assert {i: once.get(i) for i in IDS} == {i: twice.get(i) for i in IDS}
    assert {o: once.owned_by(o) for o in OWNERS} == {o: twice.owned_by(o) for o in OWNERS}
    assert once.search(s["query"], s["now"]) == twice.search(s["query"], s["now"])


def destination(lat: float, lon: float, bearing: float, km: float) -> tuple[float, float]:
    """The point ``km`` from (lat, lon) along ``bearing`` (radians), on the same sphere."""
    phi, lam, d = math.radians(lat), math.radians(lon), km / EARTH_RADIUS_KM
    phi2 = math.asin(math.sin(phi) * math.cos(d) + math.cos(phi) * math.sin(d) * math.cos(bearing))
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(phi),
        math.cos(d) - math.sin(phi) * math.sin(phi2),
    )
    lon2 = (math.degrees(lam2) + 540.0) % 360.0 - 180.0
    return math.degrees(phi2), lon2


@settings(max_examples=600, deadline=None)
@given(
    st.floats(-90.0, 90.0),
    st.floats(-180.0, 180.0),
    st.floats(0.0, 2 * math.pi),
    st.floats(0.0, 20000.0),
    st.floats(0.0, 1.0),
)
def test_the_box_holds_its_whole_circle(
    lat: float, lon: float, bearing: float, radius: float, share: float
) -> None:
    plat, plon = destination(lat, lon, bearing, radius * share)
    box = box_around(lat, lon, radius)
    assert box.lat_min <= plat <= box.lat_max
    assert any(w <= plon <= e for w, e in box.lon_ranges)
