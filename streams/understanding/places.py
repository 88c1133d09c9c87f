"""What the understanding needs from a gazetteer: a place name in, a place out.

The gazetteer itself (Rwanda's districts and Kigali's sectors, ``streams.places``) is
built elsewhere; backends take any ``resolve_place`` that fits :data:`Resolver`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Protocol


class Place(Protocol):
    """A resolved place: its canonical name, its district and its coordinates."""

    @property
    def name(self) -> str: ...

    @property
    def district(self) -> str: ...

    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...


Resolver = Callable[[str], Place | None]


def no_places(text: str) -> Place | None:
    """A resolver that knows no place (every need then misses its place)."""
    return None


def gazetteer() -> Resolver | None:
    """``streams.places.resolve`` when that package is present, else None.

    A present but broken package raises: only its absence is an answer."""
    if importlib.util.find_spec("streams.places") is None:
        return None
    module = importlib.import_module("streams.places")
    resolve: Resolver = module.resolve
    return resolve
