"""Prompts and parsers shared by the rides flows: vehicle types and locations."""

from __future__ import annotations

from typing import Any

from streams.domains.rides.catalog import t
from streams.engine import messages as m
from streams.engine.flows import Prompt
from streams.engine.model import Conv, Ctx

VEHICLES = ("moto", "cab", "lifan", "truck")


def vehicle_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    rows = [m.Option(f"vehicle:{v}", t(conv, f"vehicle.{v}")) for v in VEHICLES]
    return [
        m.list_body(
            conv.wa_id,
            t(conv, "vehicle.body"),
            t(conv, "vehicle.button"),
            rows,
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


def location_prompt(key: str) -> Prompt:
    """A prompt asking to share a location, with the text ``key``."""

    def prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
        return [m.location_request_body(conv.wa_id, t(conv, key))]

    return prompt
