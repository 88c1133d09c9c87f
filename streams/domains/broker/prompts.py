"""What the broker's flows share: the service list, names of categories and places."""

from __future__ import annotations

from typing import Any

from streams.domains.broker.catalog import t
from streams.engine import messages as m
from streams.engine.model import Conv, Input
from streams.places import resolve
from streams.understanding.lexicon import label, lexicon

MAX_LISTED = 10  # a WhatsApp list: the first ten services; any other is typed


def categories() -> tuple[str, ...]:
    return lexicon().ids("category")


def category_name(key: str, lang: str) -> str:
    return label("category", key, lang)


def category_list(conv: Conv, body_key: str) -> dict[str, Any]:
    rows = [m.Option(f"cat:{c}", category_name(c, conv.lang))
            for c in categories()[:MAX_LISTED]]
    return m.list_body(conv.wa_id, t(conv, body_key), t(conv, "category.button"), rows,
                       section=t(conv, "category.button"))


def picked_category(inp: Input) -> str | None:
    """A service picked from the list (``cat:<id>``)."""
    if inp.choice.startswith("cat:") and inp.choice[4:] in categories():
        return inp.choice[4:]
    return None


def place_of(inp: Input) -> tuple[float, float, str, str] | None:
    """(lat, lon, place, district) of a shared location or a typed place name."""
    if inp.kind == "location":
        return inp.lat, inp.lon, "", ""
    if inp.kind == "text":
        p = resolve(inp.text)
        if p is not None:
            return p.lat, p.lon, p.name, p.district
    return None
