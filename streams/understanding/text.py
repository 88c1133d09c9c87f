"""Text as the rules see it: folded tokens with their spans, and a bounded edit distance.

Folding drops case and accents (``Électricien`` -> ``electricien``); apostrophes split
words (``w'amazi`` -> ``w``, ``amazi``); digits and letters split (``200kg`` -> ``200``,
``kg``), while a number keeps its separators (``1,500``, ``2.5``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


def fold(text: str) -> str:
    """Lower case without accents: what every comparison here is made on."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Token:
    """One word or number: ``norm`` is folded (accents kept in ``lower`` for the few
    words that only an accent tells apart, like French ``maïs`` and ``mais``)."""

    norm: str
    lower: str
    start: int
    end: int

    @property
    def is_number(self) -> bool:
        return self.norm[0].isdigit()


def tokens(text: str) -> list[Token]:
    text = unicodedata.normalize("NFC", text)
    return [Token(fold(m.group()), m.group().casefold(), m.start(), m.end())
            for m in _TOKEN.finditer(text)]


def words(text: str) -> tuple[str, ...]:
    """The folded words of a catalog phrase."""
    return tuple(t.norm for t in tokens(text))


def allowed_edits(word: str) -> int:
    """Misspellings tolerated for a catalog word: none for short words (too many real
    words lie one edit from ``kg`` or ``riz``), one from 6 letters, two from 9."""
    return 0 if len(word) < 6 else 1 if len(word) < 9 else 2


def distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance (edits, including swapping two neighbours)
    between ``a`` and ``b``, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


#: Endings of English and French inflection: ``repainted`` is ``repaint``, ``washes`` is
#: ``wash``, ``draining`` is ``drain`` (one edit, so that a written form wins a tie).
_ENDINGS = ("ing", "ed", "es", "s")


def similar(seen: str, word: str) -> int | None:
    """The number of edits between a word of the text and a catalog word, or None when
    they are further apart than the catalog word tolerates."""
    if seen == word:
        return 0
    if seen.isdigit():
        return None
    limit = allowed_edits(word)
    d = distance(seen, word, limit) if limit else limit + 1
    if d <= limit:
        return d
    for ending in _ENDINGS:
        stem = seen[: -len(ending)]
        if seen.endswith(ending) and len(stem) >= 4 and stem == word:
            return 1
    return None
