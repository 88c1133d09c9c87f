"""The shipped gazetteer: every district and Kigali sector, once, inside Rwanda, each
sector near its own district."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

from streams.engine.common import haversine_km
from streams.places import PlaceKind, places

RWANDA_LAT = (-2.85, -1.04)
RWANDA_LON = (28.85, 30.90)
DISTRICTS_BY_PROVINCE = {
    "Kigali": {"Gasabo", "Kicukiro", "Nyarugenge"},
    "Northern": {"Burera", "Gakenke", "Gicumbi", "Musanze", "Rulindo"},
    "Southern": {
        "Gisagara",
        "Huye",
        "Kamonyi",
        "Muhanga",
        "Nyamagabe",
        "Nyanza",
        "Nyaruguru",
        "Ruhango",
    },
    "Eastern": {"Bugesera", "Gatsibo", "Kayonza", "Kirehe", "Ngoma", "Nyagatare", "Rwamagana"},
    "Western": {"Karongi", "Ngororero", "Nyabihu", "Nyamasheke", "Rubavu", "Rusizi", "Rutsiro"},
}
KIGALI_SECTORS = {
    "Gasabo": {
        "Bumbogo",
        "Gatsata",
        "Gikomero",
        "Gisozi",
        "Jabana",
        "Jali",
        "Kacyiru",
        "Kimihurura",
        "Kimironko",
        "Kinyinya",
        "Ndera",
        "Nduba",
        "Remera",
        "Rusororo",
        "Rutunga",
    },
    "Kicukiro": {
        "Gahanga",
        "Gatenga",
        "Gikondo",
        "Kagarama",
        "Kanombe",
        "Kicukiro",
        "Kigarama",
        "Masaka",
        "Niboye",
        "Nyarugunga",
    },
    "Nyarugenge": {
        "Gitega",
        "Kanyinya",
        "Kigali",
        "Kimisagara",
        "Mageragere",
        "Muhima",
        "Nyakabanda",
        "Nyamirambo",
        "Nyarugenge",
        "Rwezamenyo",
    },
}


def test_the_30_districts_in_their_provinces() -> None:
    districts = [p for p in places() if p.kind is PlaceKind.DISTRICT]
    assert len(districts) == 30
    got: dict[str, set[str]] = {}
    for d in districts:
        assert d.district == d.name
        got.setdefault(d.province, set()).add(d.name)
    assert got == DISTRICTS_BY_PROVINCE


def test_the_35_sectors_of_kigali_in_their_districts() -> None:
    sectors = [p for p in places() if p.kind is PlaceKind.SECTOR]
    assert len(sectors) == 35
    got: dict[str, set[str]] = {}
    for s in sectors:
        assert s.province == "Kigali"
        got.setdefault(s.district, set()).add(s.name)
    assert got == KIGALI_SECTORS


def test_every_point_lies_inside_rwandas_bounding_box() -> None:
    for p in places():
        assert RWANDA_LAT[0] <= p.lat <= RWANDA_LAT[1], p
        assert RWANDA_LON[0] <= p.lon <= RWANDA_LON[1], p


def test_every_sector_lies_near_its_district_and_inside_kigali() -> None:
    by_name = {p.name: p for p in places() if p.kind is PlaceKind.DISTRICT}
    for s in places():
        if s.kind is PlaceKind.SECTOR:
            d = by_name[s.district]
            assert haversine_km(s.lat, s.lon, d.lat, d.lon) < 16.0, s
            assert -2.10 <= s.lat <= -1.78, s
            assert 29.95 <= s.lon <= 30.25, s


def test_districts_are_apart() -> None:
    ds = [p for p in places() if p.kind is PlaceKind.DISTRICT]
    for i, a in enumerate(ds):
        for b in ds[i + 1 :]:
            assert haversine_km(a.lat, a.lon, b.lat, b.lon) > 5.0, (a.name, b.name)


def test_names_and_aliases_name_one_place_each_except_a_sector_and_its_district() -> None:
    names = Counter(n.lower() for p in places() for n in (p.name, *p.aliases))
    shared = {n for n, c in names.items() if c > 1}
    assert shared == {"kicukiro", "nyarugenge"}  # sector and district of the same name


def test_the_data_file_says_where_its_coordinates_come_from() -> None:
    doc = json.loads(resources.files("streams.places").joinpath("rwanda.json").read_text())
    assert "APPROXIMATE" in doc["note"]
    assert len(doc["places"]) == 65
