"""Helpers shared by the engine's flows and by domains: the engine's texts, distances."""

from __future__ import annotations

import math
from typing import Any

from streams.engine.catalog import GENERIC
from streams.engine.model import Conv


def t(conv: Conv, key: str, **fields: object) -> str:
    """The engine's text ``key`` in the conversation's language."""
    return GENERIC.t(conv, key, **fields)


def say(conv: Conv, key: str, **fields: object) -> dict[str, Any]:
    """A text reply from the engine's catalog."""
    return GENERIC.say(conv, key, **fields)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (mean Earth radius 6371.0088 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def km(d: float) -> str:
    return f"{d:.1f}"
