"""Quantities of produce with their unit: "200 kg", "5 tonnes", "3 sacks", "10 ibiro",
"50kg", "ibiro 10", "2,5 t", "20 litres".

Units, in English, French and Kinyarwanda (a Kinyarwanda unit may also come before the
number, as it is spoken: "ibiro 10"):

- kg: kg, kgs, kilo(s), kilogram(me)(s), ibiro;
- tonne: t, ton(s), tonne(s), toni;
- sack: sack(s), bag(s), sac(s), umufuka, imifuka;
- litre: l, litre(s), liter(s), litiro.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

from streams.listings.numbers import NUMBER, fold, number_value

MAX_QUANTITY = 10**7  # ten million of anything is a typo on a farmer's listing


class Unit(StrEnum):
    """A unit of produce."""

    KG = "kg"
    TONNE = "tonne"
    SACK = "sack"
    LITRE = "litre"


class Quantity(NamedTuple):
    """An amount of produce in a unit."""

    amount: float
    unit: Unit


_WORDS = {
    Unit.KG: r"kgs?|kilos?|kilogram(?:me)?s?|ibiro",
    Unit.TONNE: r"t|tons?|tonnes?|toni",
    Unit.SACK: r"sacks?|bags?|sacs?|umufuka|imifuka",
    Unit.LITRE: r"l|litres?|liters?|litiro",
}
_RW_UNITS = r"ibiro|toni|umufuka|imifuka|litiro"
_AFTER = re.compile(
    rf"(?<![a-z]) {NUMBER} \s? (?P<unit>{'|'.join(_WORDS.values())}) (?![a-z])",
    re.VERBOSE | re.ASCII,
)
_BEFORE = re.compile(
    rf"(?<![a-z]) (?P<unit>{_RW_UNITS}) \s {NUMBER} (?![a-z])", re.VERBOSE | re.ASCII
)


def _quantity(match: re.Match[str]) -> Quantity | None:
    word = match.group("unit")
    unit = next(u for u, words in _WORDS.items() if re.fullmatch(words, word))
    value = float(number_value(match))
    if not 0 < value <= MAX_QUANTITY:
        return None
    return Quantity(value, unit)


def parse_quantity(text: str) -> Quantity | None:
    """The quantity when the whole of ``text`` is one number with its unit; None when
    the unit is missing or unknown ("200", "5 boxes"), the number is zero or over
    ``MAX_QUANTITY``, or there is anything else."""
    folded = fold(text)
    match = _AFTER.fullmatch(folded) or _BEFORE.fullmatch(folded)
    return None if match is None else _quantity(match)


def find_quantity(text: str) -> Quantity | None:
    """The first quantity with its unit written inside free text ("I want 200 kg of
    beans near Musanze" -> 200 kg), or None."""
    folded = fold(text)
    matches = [*_AFTER.finditer(folded), *_BEFORE.finditer(folded)]
    for match in sorted(matches, key=lambda m: m.start()):
        found = _quantity(match)
        if found is not None:
            return found
    return None
