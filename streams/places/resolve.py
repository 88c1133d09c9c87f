"""Finding the place named in free text: "in Kicukiro", "à Nyamirambo", "i Remera",
"near Musanze", "plumber kimironko pls".

Words around the name do not matter (any language), nor do case, accents or
punctuation. A name of six letters or more is still found with one typo (a letter
missing, added, changed, or two neighbours swapped) after its first letter, unless the
typo is as close to another name, or is a real word listed in the gazetteer's
``not_places``. The first letter must be right because Kinyarwanda's noun prefixes
would otherwise turn common words into names: "ibyumba" (rooms) is one letter from
Byumba, "abana" (children) one from Jabana.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from streams.places.gazetteer import Place, PlaceKind, gazetteer

MIN_FUZZY_LEN = 6  # shorter names (Huye, Jali, Ngoma) must be spelled right


def words(text: str) -> list[str]:
    """``text`` lower case, without accents, split on anything but letters and digits."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", bare.lower())


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` becomes ``b`` by at most one insertion, deletion, substitution,
    or swap of two neighbouring letters."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


@cache
def _names() -> dict[tuple[str, ...], tuple[Place, ...]]:
    """Every name and alias, as words, with the places it names."""
    found: dict[tuple[str, ...], list[Place]] = {}
    for place in gazetteer().places:
        for name in (place.name, *place.aliases):
            found.setdefault(tuple(words(name)), []).append(place)
    return {k: tuple(v) for k, v in found.items()}


@dataclass(frozen=True, slots=True)
class _Mention:
    places: tuple[Place, ...]
    exact: bool
    length: int  # letters matched
    start: int  # word position in the text


def _mentions(tokens: list[str]) -> list[_Mention]:
    names = _names()
    longest = max(len(k) for k in names)
    found = []
    for start in range(len(tokens)):
        for n in range(longest, 0, -1):
            key = tuple(tokens[start : start + n])
            if len(key) == n and key in names:
                found.append(_Mention(names[key], True, len("".join(key)), start))
                break
        else:
            fuzzy = _fuzzy(tokens[start])
            if fuzzy is not None:
                found.append(_Mention(fuzzy, False, len(tokens[start]), start))
    return found


def _fuzzy(token: str) -> tuple[Place, ...] | None:
    if len(token) < MIN_FUZZY_LEN - 1 or token in gazetteer().not_places:
        return None
    close = [
        places
        for key, places in _names().items()
        if len(key) == 1
        and len(key[0]) >= MIN_FUZZY_LEN
        and key[0][0] == token[0]
        and within_one_edit(token, key[0])
    ]
    return close[0] if len(close) == 1 else None


def _meaning(mention: _Mention, others: list[_Mention]) -> Place | None:
    """The place a name means: the sector when it names a sector (Kicukiro is a sector
    and a district), else the district; nothing when it names a district beside one of
    that district's other sectors, where it only says where that sector is ("Gikondo,
    Kicukiro")."""
    districts = [p for p in mention.places if p.kind is PlaceKind.DISTRICT]
    for district in districts:
        for other in others:
            if any(
                p.kind is PlaceKind.SECTOR
                and p.district == district.name
                and p.name != district.name
                for p in other.places
            ):
                return None
    sectors = [p for p in mention.places if p.kind is PlaceKind.SECTOR]
    if len(sectors) == 1:
        return sectors[0]
    return districts[0] if len(districts) == 1 and not sectors else None


def resolve(text: str) -> Place | None:
    """The place named in ``text``, or None when none is (or it would be a guess).

    When several are named: a correctly spelled name before a misspelled one, a sector
    before a district, the longer name, then the first one written. A district named
    beside one of its own sectors ("Remera, Gasabo") only says where that sector is."""
    mentions = _mentions(words(text))
    ranked = []
    for m in mentions:
        place = _meaning(m, [o for o in mentions if o is not m])
        if place is not None:
            rank = (not m.exact, place.kind is PlaceKind.DISTRICT, -m.length, m.start)
            ranked.append((rank, place))
    return min(ranked, key=lambda r: r[0])[1] if ranked else None
