"""ListingIndex: each change by id and idempotent; searches nearest first, newest first at
equal distance, within the radius, live listings of the kind only."""

from __future__ import annotations

import math

import pytest

from streams.engine.common import haversine_km
from streams.listings import Listing, ListingIndex, Query, Status, scan
from streams.listings.filters import all_of, at_least, at_most, contains, equals
from streams.listings.geo import EARTH_RADIUS_KM, KM_PER_DEG
from streams.listings.index import FARTHEST_KM

KIGALI = (-1.9441, 30.0619)
DAY = 86400.0


def job(
    listing_id: str,
    lat: float = KIGALI[0],
    lon: float = KIGALI[1],
    *,
    owner: str = "250788000001",
    kind: str = "job",
    posted: float = 0.0,
    expires: float = 14 * DAY,
    **fields: object,
) -> Listing:
    return Listing(listing_id, owner, kind, lat, lon, posted, expires, fields=fields)


def ids(index: ListingIndex, query: Query, now: float = 1.0) -> list[str]:
    return [h.listing.id for h in index.search(query, now)]


def near(radius_km: float = 10.0, k: int = 10, **kw: object) -> Query:
    return Query("job", KIGALI[0], KIGALI[1], radius_km, k, **kw)  # type: ignore[arg-type]


def test_nearest_first_then_newest_at_equal_distance_then_id() -> None:
    index = ListingIndex()
    north = (KIGALI[0] + 0.01, KIGALI[1])
    index.add(job("far", KIGALI[0] + 0.05, KIGALI[1]))
    index.add(job("old", *north, posted=1.0))
    index.add(job("new", *north, posted=5.0))
    index.add(job("b-same", *north, posted=3.0))
    index.add(job("a-same", *north, posted=3.0))
    index.add(job("here", *KIGALI, posted=0.0))
    assert ids(index, near()) == ["here", "new", "a-same", "b-same", "old", "far"]
    hits = index.search(near(), 1.0)
    assert hits[0].km == 0.0
    assert hits[1].km == pytest.approx(0.01 * KM_PER_DEG)


def test_radius_kind_owner_and_k() -> None:
    index = ListingIndex()
    index.add(job("in", KIGALI[0] + 0.08, KIGALI[1]))  # ~8.9 km
    index.add(job("out", KIGALI[0] + 0.10, KIGALI[1]))  # ~11.1 km
    index.add(job("rental", *KIGALI, kind="rental"))
    index.add(job("mine", *KIGALI, owner="250788000009"))
    assert ids(index, near()) == ["mine", "in"]
    assert ids(index, near(exclude_owner="250788000009")) == ["in"]
    assert ids(index, near(radius_km=50.0)) == ["mine", "in", "out"]
    assert ids(index, near(radius_km=50.0, k=2)) == ["mine", "in"]
    assert ids(index, near(k=0)) == []
    assert ids(index, Query("rental", *KIGALI, 1.0)) == ["rental"]
    assert ids(index, Query("produce", *KIGALI, 1.0)) == []


def test_radius_zero_finds_only_the_same_point() -> None:
    index = ListingIndex()
    index.add(job("here"))
    index.add(job("next door", KIGALI[0] + 1e-5, KIGALI[1]))
    assert ids(index, near(radius_km=0.0)) == ["here"]


def test_where_predicates_on_domain_fields() -> None:
    index = ListingIndex()
    index.add(job("cheap", price=200_000, bedrooms=1, kind="rental"))
    index.add(job("big", price=450_000, bedrooms=3, kind="rental"))
    index.add(job("odd", price="a lot", bedrooms=None, kind="rental"))
    index.add(job("plumber", kind="vendor", categories=["plumbing", "electrical"]))
    index.add(job("beans", kind="produce", crop="beans"))

    def rentals(where: object) -> list[str]:
        q = Query("rental", *KIGALI, 10.0, where=where)  # type: ignore[arg-type]
        return sorted(h.listing.id for h in index.search(q, 1.0))

    assert rentals(at_most("price", 300_000)) == ["cheap"]
    assert rentals(at_least("bedrooms", 2)) == ["big"]
    assert rentals(all_of(at_most("price", 500_000), at_least("bedrooms", 1))) == ["big", "cheap"]
    assert rentals(all_of()) == ["big", "cheap", "odd"]
    assert rentals(at_most("missing", 1)) == []
    assert ids(index, Query("vendor", *KIGALI, 5.0, where=contains("categories", "plumbing")))
    assert not ids(index, Query("vendor", *KIGALI, 5.0, where=contains("categories", "roofing")))
    assert ids(index, Query("produce", *KIGALI, 5.0, where=equals("crop", "beans"))) == ["beans"]
    assert ids(index, Query("produce", *KIGALI, 5.0, where=equals("crop", "maize"))) == []


def test_bools_are_not_numbers_for_filters() -> None:
    assert not at_least("bedrooms", 1)({"bedrooms": True})
    assert at_least("bedrooms", 1)({"bedrooms": 1.0})


def test_expiry_by_time_and_by_event() -> None:
    index = ListingIndex()
    index.add(job("a", expires=100.0))
    index.add(job("b", expires=200.0))
    assert ids(index, near(), now=99.9) == ["a", "b"]
    assert ids(index, near(), now=100.0) == ["b"]
    assert index.expire("b") is True
    assert index.expire("b") is False
    assert ids(index, near(), now=150.0) == []
    closed = index.get("b")
    assert closed is not None
    assert closed.status is Status.CLOSED


def test_every_change_is_idempotent_and_a_late_duplicate_add_changes_nothing() -> None:
    index = ListingIndex()
    first = job("x", price=100)
    assert index.add(first) is True
    assert index.add(first) is False
    assert index.add(job("x", price=999)) is False  # the first add wins
    assert index.update("x", fields={"price": 150}) is True
    assert index.update("x", fields={"price": 150}) is False
    assert index.close("x") is True
    assert index.close("x") is False
    assert index.add(first) is False  # a replayed JobPosted after JobClosed
    assert index.update("x", fields={"price": 1}) is False  # closed is final
    got = index.get("x")
    assert got is not None
    assert (got.status, got.fields["price"]) == (Status.CLOSED, 150)
    assert index.remove("x") is True
    assert index.remove("x") is False
    assert index.add(first) is False
    assert index.get("x") is None
    assert ids(index, near()) == []


def test_update_moves_renews_and_merges_fields() -> None:
    index = ListingIndex()
    index.add(job("x", title="cook", pay=5000))
    index.add(job("y", KIGALI[0] + 0.02, KIGALI[1]))
    assert index.update("x", lat=KIGALI[0] + 0.04) is True
    assert ids(index, near()) == ["y", "x"]
    assert index.update("x", lat=KIGALI[0], lon=KIGALI[1], expires_at=30 * DAY) is True
    assert ids(index, near(), now=20 * DAY) == ["x"]
    assert index.update("x", fields={"pay": 6000}) is True
    got = index.get("x")
    assert got is not None
    assert dict(got.fields) == {"title": "cook", "pay": 6000}
    assert index.update("nope", lat=0.0) is False
    with pytest.raises(ValueError, match="out of range"):
        index.update("x", lat=91.0)


def test_owned_by_newest_first_open_and_closed() -> None:
    index = ListingIndex()
    index.add(job("a", posted=1.0, owner="o1"))
    index.add(job("b", posted=2.0, owner="o1"))
    index.add(job("c", posted=3.0, owner="o2"))
    index.close("a")
    assert [x.id for x in index.owned_by("o1")] == ["b", "a"]
    index.remove("b")
    index.remove("a")
    assert index.owned_by("o1") == []
    assert [x.id for x in index.owned_by("o2")] == ["c"]


def test_prune_forgets_expired_listings_and_old_removals() -> None:
    index = ListingIndex()
    gone = job("gone", expires=10.0)
    index.add(gone)
    index.add(job("closed", expires=10.0))
    index.add(job("live", expires=100.0))
    index.close("closed")
    index.remove("gone")
    assert index.prune(before=10.0) == 1  # "closed"; "gone" was removed already
    assert index.get("closed") is None
    assert len(index) == 1
    # The removal record is forgotten too: a duplicate add now holds a listing that can
    # never be found again, since it expired before the prune.
    assert index.add(gone) is True
    assert ids(index, near(), now=10.0) == ["live"]


def test_listing_fields_are_a_frozen_copy() -> None:
    fields: dict[str, object] = {"price": 1}
    listing = Listing("x", "o", "job", 0.0, 0.0, 0.0, 1.0, fields=fields)
    fields["price"] = 2
    assert listing.fields["price"] == 1
    with pytest.raises(TypeError):
        listing.fields["price"] = 3  # type: ignore[index]
    assert len({listing, Listing("x", "o", "job", 0.0, 0.0, 0.0, 1.0, fields={"price": 1})}) == 1


@pytest.mark.parametrize(
    ("lat", "lon"), [(91.0, 0.0), (-90.5, 0.0), (0.0, 180.1), (math.nan, 0.0), (0.0, math.inf)]
)
def test_bad_points_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="point"):
        Listing("x", "o", "job", lat, lon, 0.0, 1.0)
    with pytest.raises(ValueError, match="point"):
        Query("job", lat, lon, 1.0)


@pytest.mark.parametrize("radius", [-1.0, math.nan])
def test_bad_radius_is_refused(radius: float) -> None:
    with pytest.raises(ValueError, match="radius"):
        Query("job", 0.0, 0.0, radius)


def test_across_the_antimeridian_and_around_a_pole() -> None:
    index = ListingIndex()
    index.add(job("east", 0.0, 179.999))
    index.add(job("west", 0.0, -179.9985))
    index.add(job("pole-a", 89.99, 0.0))
    index.add(job("pole-b", 89.99, 180.0))
    index.add(job("pole-c", 89.99, -90.0))
    q = Query("job", 0.0, -179.9995, 1.0)
    assert [h.listing.id for h in index.search(q, 1.0)] == ["west", "east"]
    q = Query("job", 89.995, 90.0, 2.0)
    assert sorted(h.listing.id for h in index.search(q, 1.0)) == ["pole-a", "pole-b", "pole-c"]
    pole = [x for x in map(index.get, ("pole-a", "pole-b", "pole-c")) if x is not None]
    assert index.search(q, 1.0) == scan(pole, q, 1.0)


def test_an_unbounded_radius_finds_everything_without_looping() -> None:
    index = ListingIndex()
    index.add(job("here", 0.0, 0.0))
    index.add(job("antipode", 0.0, 180.0))
    hits = index.search(Query("job", 0.0, 0.0, math.inf, k=5), 1.0)
    assert [h.listing.id for h in hits] == ["here", "antipode"]
    assert hits[1].km == FARTHEST_KM


def test_the_box_uses_the_radius_of_haversine_km() -> None:
    assert haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(math.radians(1.0) * EARTH_RADIUS_KM)
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(KM_PER_DEG)


def test_a_crowded_cell_whose_listings_are_all_far_does_not_hide_a_nearer_one() -> None:
    # 100 listings in the far corner of the query's own 1-degree cell make the search
    # start small; the nearest listing is in the next cell, nearer than all of them.
    index = ListingIndex(cell_deg=1.0)
    for i in range(100):
        index.add(job(f"corner-{i:03}", 0.99, 0.99))
    index.add(job("next-cell", 0.5, 1.05))
    q = Query("job", 0.5, 0.5, 200.0, k=1)
    assert ids(index, q) == ["next-cell"]
