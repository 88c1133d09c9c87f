"""What the farmer market's flows share: the crop and unit lists, how amounts and
dates read and show, and the place of a shared location or a typed name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from streams.domains.farmer.catalog import TEXTS, t
from streams.engine import messages as m
from streams.engine.model import Conv, Input
from streams.listings import Quantity, Unit, parse_quantity
from streams.listings.money import MONEY, money_value
from streams.listings.numbers import NUMBER, fold, number_value
from streams.places import resolve
from streams.understanding.lexicon import label, lexicon

MAX_LISTED = 10  # a WhatsApp list: the first ten crops; any other is typed
_BARE = re.compile(rf"\s*{NUMBER}\s*", re.VERBOSE | re.ASCII)
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?")


def crops() -> tuple[str, ...]:
    return lexicon().ids("crop")


def crop_name(key: str, lang: str) -> str:
    return label("crop", key, lang)


def crop_list(conv: Conv, body_key: str) -> dict[str, Any]:
    rows = [m.Option(f"crop:{c}", crop_name(c, conv.lang)) for c in crops()[:MAX_LISTED]]
    return m.list_body(conv.wa_id, t(conv, body_key), t(conv, "crop.button"), rows,
                       section=t(conv, "crop.button"))


def picked_crop(inp: Input) -> str | None:
    """A crop picked from the list (``crop:<id>``)."""
    if inp.choice.startswith("crop:") and inp.choice[5:] in crops():
        return inp.choice[5:]
    return None


def unit_name(unit: str, lang: str) -> str:
    """A unit (``Unit`` value) in ``lang``."""
    return TEXTS.text(lang, f"unit.{unit}") if unit in set(Unit) else unit


def per_name(unit: str, lang: str) -> str:
    """A unit after "per" (one kg, one sack) in ``lang``."""
    return TEXTS.text(lang, f"per.{unit}") if unit in set(Unit) else unit


def shown(listing: Mapping[str, Any], lang: str) -> dict[str, str]:
    """A listing's crop, quantity, unit, price and unit of price, as texts show them."""
    unit = str(listing.get("unit", ""))
    return {"crop": crop_name(str(listing.get("crop", "")), lang),
            "quantity": amount(float(listing.get("quantity", 0))),
            "unit": unit_name(unit, lang), "per": per_name(unit, lang),
            "price": amount(float(listing.get("price", 0)))}


def amount(x: float) -> str:
    """200.0 -> "200", 2.5 -> "2.5", 1500 -> "1,500"."""
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def bare_number(text: str) -> float | None:
    """The number when the whole of ``text`` is one number without a unit ("200")."""
    match = _BARE.fullmatch(fold(text))
    if match is None:
        return None
    value = float(number_value(match))
    return value if value > 0 else None


def unit_list(conv: Conv, number: float) -> dict[str, Any]:
    """The units to pick for a quantity typed without one."""
    rows = [m.Option(f"unit:{u.value}:{amount(number)}", f"{amount(number)} "
                     f"{unit_name(u.value, conv.lang)}") for u in Unit]
    return m.list_body(conv.wa_id, t(conv, "qty.unit", amount=amount(number)),
                       t(conv, "qty.unit.button"), rows, section=t(conv, "qty.unit.button"))


def picked_quantity(inp: Input) -> Quantity | None:
    """A unit picked for a bare number (``unit:<unit>:<number>``)."""
    parts = inp.choice.split(":")
    if len(parts) != 3 or parts[0] != "unit" or parts[1] not in set(Unit):
        return None
    value = bare_number(parts[2])
    return None if value is None else Quantity(value, Unit(parts[1]))


def find_price(text: str) -> int | None:
    """A price written with its currency inside free text ("beans 50 kg 800 rwf",
    "ibiro 100 amafaranga 900"), read with ``parse_money``'s grammar. A number without
    a currency is not a price here (it may be the quantity), nor is one right after a
    Kinyarwanda unit ("ibiro 100 amafaranga 900": 100 is the quantity)."""
    s = fold(text)
    pos = 0
    while (match := MONEY.search(s, pos)) is not None:
        pos = match.start() + 1  # matches may overlap: "100 amafaranga" / "amafaranga 900"
        if not (match.group("cur1") or match.group("cur2")):
            continue
        before = s[:match.start()].split()
        number = match.group("grouped") or match.group("plain")
        if (not match.group("cur1") and before
                and parse_quantity(f"{before[-1]} {number}") is not None):
            continue
        value = money_value(match)
        if value is not None:
            return value
    return None


def parse_day(text: str, today: date) -> date | None:
    """A harvest date: ISO (2026-10-05), or day/month[/year] (5/10, 05.10.2026); a
    date without a year is the nearest one to ``today``. None for anything else, or a
    date more than a year away."""
    s = fold(text)
    found: date | None = None
    try:
        found = date.fromisoformat(s)
    except ValueError:
        match = _DMY.fullmatch(s)
        if match is None:
            return None
        d, mo, y = int(match.group(1)), int(match.group(2)), match.group(3)
        try:
            if y is not None:
                found = date(int(y) + (2000 if len(y) == 2 else 0), mo, d)
            else:
                options = [date(today.year + k, mo, d) for k in (-1, 0, 1)]
                found = min(options, key=lambda x: abs((x - today).days))
        except ValueError:
            return None
    return found if abs((found - today).days) <= 366 else None


def today(now: float, tz: str) -> date:
    """The local date at ``now`` in the time zone ``tz``."""
    return datetime.fromtimestamp(now, tz=UTC).astimezone(ZoneInfo(tz)).date()


def place_of(inp: Input) -> tuple[float, float, str, str] | None:
    """(lat, lon, place, district) of a shared location or a typed place name."""
    if inp.kind == "location":
        return inp.lat, inp.lon, "", ""
    if inp.kind == "text":
        p = resolve(inp.text)
        if p is not None:
            return p.lat, p.lon, p.name, p.district
    return None


def days_left(expires_at: float, now: float) -> int:
    return max(0, int((expires_at - now + 86399) // 86400))

