"""The places of Rwanda a user may name: its 30 districts and the 35 sectors of Kigali,
read once from ``rwanda.json`` (shipped in this package; its ``note`` says where the
coordinates come from and how approximate they are)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any


class PlaceKind(StrEnum):
    """How specific a place is: a sector lies within a district."""

    DISTRICT = "district"
    SECTOR = "sector"


@dataclass(frozen=True, slots=True)
class Place:
    """A named place with an approximate centre (degrees). ``district`` is the place's
    own name for a district; ``aliases`` are other names it goes by (Butare for Huye)."""

    name: str
    kind: PlaceKind
    district: str
    province: str
    lat: float
    lon: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Every place, and the words never to read as a place by a typo."""

    places: tuple[Place, ...]
    not_places: frozenset[str]


def _place(row: dict[str, Any]) -> Place:
    return Place(
        name=str(row["name"]),
        kind=PlaceKind(row["kind"]),
        district=str(row["district"]),
        province=str(row["province"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        aliases=tuple(str(a) for a in row.get("aliases", ())),
    )


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer shipped with the package (read on first use, then kept)."""
    text = resources.files(__package__).joinpath("rwanda.json").read_text("utf-8")
    doc = json.loads(text)
    return Gazetteer(
        places=tuple(_place(row) for row in doc["places"]),
        not_places=frozenset(w.lower() for w in doc["not_places"]["words"]),
    )


def places() -> tuple[Place, ...]:
    """Every place: the 30 districts, then Kigali's 35 sectors."""
    return gazetteer().places
