"""Prompts and parsers shared by several workflows."""

from __future__ import annotations

import math
from typing import Any

from streams.engine import messages as m
from streams.engine.catalog import text
from streams.engine.model import Conv, Ctx

VEHICLES = ("moto", "cab", "lifan", "truck")


def t(conv: Conv, key: str, **fields: object) -> str:
    return text(conv.lang, key, **fields)


def say(conv: Conv, key: str, **fields: object) -> dict[str, Any]:
    """A text reply from the catalog."""
    return m.text_body(conv.wa_id, t(conv, key, **fields))


def vehicle_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    opts = [m.Option(f"vehicle:{v}", t(conv, f"vehicle.{v}")) for v in VEHICLES]
    return [
        m.list_body(
            conv.wa_id,
            t(conv, "vehicle.body"),
            t(conv, "vehicle.button"),
            opts,
            section=t(conv, "vehicle.button"),
        )
    ]


def pick_vehicle(choice: str, word: str, lang_titles: list[str]) -> str | None:
    """A vehicle from a list pick (``vehicle:cab``) or a typed name."""
    if choice.startswith("vehicle:") and choice[8:] in VEHICLES:
        return choice[8:]
    if word in VEHICLES:
        return word
    if word.isdigit() and 1 <= int(word) <= len(VEHICLES):
        return VEHICLES[int(word) - 1]
    return None


def location_prompt(key: str) -> Any:
    def prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
        return [m.location_request_body(conv.wa_id, t(conv, key))]

    return prompt


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (mean Earth radius 6371.0088 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def km(d: float) -> str:
    return f"{d:.1f}"
