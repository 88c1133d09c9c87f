"""Pay as typed for a job: the text is kept as it is, and an amount and a period are read
from it when they can be ("5000 per day", "150k/month", "2,000 frw/hour", "10k a week",
"3000 par jour", "ibihumbi 150 ku kwezi").

Periods, in English, French and Kinyarwanda:

- a connector then a unit: per/a/an/every/each/par/ku/mu/buri/kuri + hour/heure/isaha,
  day/jour/journee/munsi, week/semaine/cyumweru, month/mois/kwezi ("5000 per day",
  "par mois", "ku munsi"); "de l'heure", "a l'heure", "la journee";
- a slash then a unit or its abbreviation: /h, /hr, /hour, /d, /day, /j, /jour, /wk,
  /week, /mo, /month, /mois;
- an adverb: hourly, daily, weekly, monthly, journalier(e), hebdomadaire, mensuel(le).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from streams.listings.money import MONEY, money_value
from streams.listings.numbers import fold

MIN_BARE_RWF = 100


class Period(StrEnum):
    """What an amount of pay is for."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Pay:
    """Pay as typed (``text``), with the amount in RWF and the period when readable."""

    text: str
    amount: int | None
    period: Period | None


_CONNECTOR = r"(?:per|an?|every|each|par|ku|mu|buri|kuri)\s"
_UNITS = {
    Period.HOUR: (r"hours?|hrs?|heures?|isaha|saha", r"h|hr|hrs|hours?|heures?"),
    Period.DAY: (r"days?|jours?|journee|munsi", r"d|days?|j|jours?"),
    Period.WEEK: (r"weeks?|semaines?|cyumweru", r"wk|weeks?|semaines?"),
    Period.MONTH: (r"months?|mois|kwezi", r"mo|months?|mois"),
}
_ADVERBS = {
    Period.HOUR: r"hourly|(?:de|a)\sl\W?\s?heure",
    Period.DAY: r"daily|journalier(?:e)?|la\sjournee",
    Period.WEEK: r"weekly|hebdomadaire",
    Period.MONTH: r"monthly|mensuel(?:le)?",
}
_PERIODS = [
    (
        period,
        re.compile(
            rf"(?:(?<![a-z])(?:{_CONNECTOR}(?:{words})|{_ADVERBS[period]})|/\s?(?:{short}))"
            r"(?![a-z])",
            re.ASCII,
        ),
    )
    for period, (words, short) in _UNITS.items()
]


def _first_period(text: str) -> tuple[Period, int] | None:
    """The period named first in ``text`` (folded) and where it starts."""
    found = [(m.start(), p) for p, rx in _PERIODS if (m := rx.search(text)) is not None]
    if not found:
        return None
    start, period = min(found)
    return period, start


def _marked(match: re.Match[str]) -> bool:
    return match.group("cur1", "cur2", "rw", "suffix") != (None, None, None, None)


def _amount(match: re.Match[str]) -> int | None:
    """The amount of a money match, if it can be pay: a bare number under 100 (no
    currency, no scale) counts days or people ("3 days a week"), not francs."""
    value = money_value(match)
    if value is None or (value < MIN_BARE_RWF and not _marked(match)):
        return None
    return value


def parse_pay(text: str) -> Pay:
    """``text`` kept as typed, with:

    - the period named first in it, if any;
    - the amount: the one written just before that period ("5000 per day, 2 days" ->
      5000); else the only amount in the text; else the only one with a currency or a
      scale ("2 people, 5000 frw" -> 5000); else None (no amount, or only a guess).
      A bare number under 100 counts days or people, never francs ("3 days a week").
    """
    folded = fold(text)
    named = _first_period(folded)
    matches = [m for m in MONEY.finditer(folded) if _amount(m) is not None]
    chosen = None
    if named is not None:
        before = [m for m in matches if m.end() <= named[1]]
        if before:
            chosen = before[-1]
    if chosen is None and len(matches) == 1:
        chosen = matches[0]
    if chosen is None:
        marked = [m for m in matches if _marked(m)]
        chosen = marked[0] if len(marked) == 1 else None
    return Pay(
        text=text,
        amount=None if chosen is None else _amount(chosen),
        period=None if named is None else named[0],
    )
