"""Numbers as people type them, shared by the money, pay and quantity parsers.

Accepted: plain digits (``300000``), digits grouped by threes with one separator used
throughout (``300,000``, ``300 000``, ``300.000``, ``1'500``, also with a no-break
space), and a decimal part of one or two digits after ``.`` or ``,`` (``1.5``, ``2,25``).
A separator followed by exactly three digits groups thousands, so ``1.500`` is 1500, not
1.5: typed amounts and quantities in Rwanda never carry three decimals.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

# Grouped first, so that "300,000" is not read as 300.00 followed by "0".
NUMBER = r"""
    (?<![\d.,])
    (?: (?P<grouped> \d{1,3} (?P<sep>[ ,.']) \d{3} (?:(?P=sep)\d{3})* )
      | (?P<plain> \d+ (?:[.,]\d{1,2})? )
    )
    (?![\d]|[.,]\d)
"""

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


def fold(text: str) -> str:
    """Lower case, accents removed (é -> e), every run of white space (no-break spaces
    included) one plain space, trimmed: the form every parser here reads."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().lower()


def number_value(match: re.Match[str]) -> Decimal:
    """The value of a match of ``NUMBER`` (its groups ``grouped``/``plain``)."""
    grouped = match.group("grouped")
    if grouped is not None:
        return Decimal(re.sub(r"\D", "", grouped))
    return Decimal(match.group("plain").replace(",", "."))
