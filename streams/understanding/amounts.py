"""Quantities and prices in a need: ``200 kg``, ``ibiro 50``, ``800 rwf/kg``, ``amafaranga 500``.

A number next to a unit word (after it, or before it as Kinyarwanda writes ``ibiro 50``)
is a quantity; next to a currency word, a price (per unit, in RWF). A bare number is the
quantity when there is none yet, then the price. This is the understanding's own small
reading; the listings' parsers (``streams/listings``) can replace it (``RuleBased(amounts=)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from streams.understanding.lexicon import Match
from streams.understanding.text import Token

_THOUSANDS = re.compile(r"^\d{1,3}([.,]\d{3})+$")


@dataclass(frozen=True, slots=True)
class Amounts:
    quantity: float | None = None
    unit: str | None = None
    price: float | None = None


def number(text: str) -> float:
    """``1,500`` and ``1.500`` are fifteen hundred (no price in RWF has decimals);
    ``2,5`` and ``2.5`` are two and a half."""
    if _THOUSANDS.match(text):
        return float(re.sub(r"[.,]", "", text))
    return float(text.replace(",", "."))


def read_amounts(toks: list[Token], matches: list[Match]) -> Amounts:
    """The quantity, unit and price written in ``toks`` (``matches`` from the lexicon)."""
    kind_at: dict[int, Match] = {}
    for m in matches:
        if m.kind in ("unit", "currency"):
            for i in range(m.start, m.end):
                kind_at[i] = m
    quantity: float | None = None
    unit: str | None = None
    price: float | None = None
    bare: list[float] = []
    used: set[int] = set()
    for i, tok in enumerate(toks):
        if not tok.is_number:
            continue
        value = number(tok.norm)
        near = [j for j in (i + 1, i - 1) if j in kind_at and j not in used]
        if near and kind_at[near[0]].kind == "currency" and price is None:
            price = value
        elif near and kind_at[near[0]].kind == "unit" and quantity is None:
            quantity, unit = value, kind_at[near[0]].key
        else:
            bare.append(value)
            continue
        used.update(range(kind_at[near[0]].start, kind_at[near[0]].end))
    for value in bare:
        if quantity is None:
            quantity = value
        elif price is None:
            price = value
    return Amounts(quantity, unit, price)
