"""A tiny stand-in gazetteer for unit tests of the understanding (the real one,
``streams.places``, is built elsewhere): exact names after folding, no misspellings."""

from __future__ import annotations

from dataclasses import dataclass

from streams.understanding.text import fold


@dataclass(frozen=True)
class FakePlace:
    name: str
    district: str
    lat: float
    lon: float


PLACES = {fold(p.name): p for p in (
    FakePlace("Kicukiro", "Kicukiro", -1.9720, 30.1030),
    FakePlace("Remera", "Gasabo", -1.9570, 30.1100),
    FakePlace("Nyamirambo", "Nyarugenge", -1.9810, 30.0440),
    FakePlace("Kimironko", "Gasabo", -1.9490, 30.1260),
    FakePlace("Masaka", "Kicukiro", -1.9980, 30.1890),
    FakePlace("Kigarama", "Kicukiro", -1.9920, 30.0800),
    FakePlace("Musanze", "Musanze", -1.4990, 29.6340),
    FakePlace("Huye", "Huye", -2.5960, 29.7390),
)}


def resolve(text: str) -> FakePlace | None:
    return PLACES.get(fold(text).strip())


class Recorder:
    """A resolver that knows no place and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, text: str) -> FakePlace | None:
        self.asked.append(text)
        return None
