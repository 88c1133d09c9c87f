"""Amounts of Rwandan francs as people type them: "300k", "300,000", "300 000 RWF",
"frw 300000", "1.5m", "RWF 250,000", "ibihumbi 300".

An amount is a number (see ``streams.listings.numbers``), optionally scaled by a suffix
(``k``, ``thousand``, ``mille``: x1,000; ``m``, ``million``, ``mln``: x1,000,000) or by
a Kinyarwanda word before it (``ibihumbi`` x1,000, ``miliyoni`` x1,000,000, never both),
with at most one currency word before or after it (RWF, FRW, RF, Fr, Frs, franc(s),
amafaranga). Case, accents and spacing do not matter.
"""

from __future__ import annotations

import re
from decimal import Decimal

from streams.listings.numbers import NUMBER, fold, number_value

MAX_RWF = 10**12  # more than anything posted on WhatsApp; larger is a typo
_CURRENCY = r"(?:rwf|frw|rfw|rf|frs|fr|francs?|amafaranga)"
_SCALE = {
    "k": 1_000,
    "thousand": 1_000,
    "mille": 1_000,
    "ibihumbi": 1_000,
    "m": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "mln": 1_000_000,
    "miliyoni": 1_000_000,
}
MONEY = re.compile(
    rf"""
    (?<![a-z])
    (?: (?P<cur1>{_CURRENCY}) (?![a-z]) \s? )?
    (?: (?P<rw>ibihumbi|miliyoni) \s )?
    {NUMBER}
    (?: \s? (?P<suffix>k|thousand|mille|millions?|mln|m) (?![a-z]) )?
    (?: \s? (?P<cur2>{_CURRENCY}) (?![a-z]) )?
    """,
    re.VERBOSE | re.ASCII,
)


def money_value(match: re.Match[str]) -> int | None:
    """The amount in RWF of a match of ``MONEY``, or None when it is not one: two
    currencies, two scales, not a whole number of francs, zero, or over ``MAX_RWF``."""
    if match.group("cur1") and match.group("cur2"):
        return None
    if match.group("rw") and match.group("suffix"):
        return None
    word = match.group("rw") or match.group("suffix")
    value = number_value(match) * (_SCALE[word] if word else 1)
    if value != value.to_integral_value() or not Decimal(0) < value <= MAX_RWF:
        return None
    return int(value)


def parse_money(text: str) -> int | None:
    """The amount in RWF when the whole of ``text`` is one amount ("300k", "RWF 250,000",
    "1.5m"); None for anything else, including an amount with other words around it."""
    match = MONEY.fullmatch(fold(text))
    return None if match is None else money_value(match)
