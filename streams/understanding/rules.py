"""The rule-based backend (the default): the catalogs' words and phrases, no I/O.

It reads en, fr and rw in the same text whatever ``lang`` says (people mix them), so the
language is only a hint it does not need. Places come from ``resolve_place``, asked about
the words no catalog claims, those after a locative first (``in``, ``à``, ``i``, ``mu``...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from streams.understanding.amounts import Amounts, read_amounts
from streams.understanding.lexicon import Lexicon, Match, lexicon
from streams.understanding.model import (
    NEEDS,
    Intent,
    Understanding,
    UnderstandingSession,
)
from streams.understanding.places import Place, Resolver, no_places
from streams.understanding.text import Token, tokens

BACKEND = "rules"
_PRODUCE = (Intent.SELL_PRODUCE, Intent.BUY_PRODUCE)
_LONGEST_PLACE = 3  # words ("Rusororo", "Nyarugenge", "Kigali city"...)

AmountReader = Callable[[list[Token], list[Match]], Amounts]


@dataclass(frozen=True)
class Reading:
    """What a scan found, before it becomes an understanding."""

    matches: list[Match]
    category: Match | None
    crop: Match | None
    cues: frozenset[str]


@dataclass
class RuleBased:
    """Understands needs from the catalogs; see the module docstring."""

    resolve_place: Resolver = no_places
    lexicon: Lexicon = field(default_factory=lexicon)
    amounts: AmountReader = read_amounts

    async def understand(self, text: str, lang: str,
                         session: UnderstandingSession) -> Understanding:
        return self.read(text, session)

    def read(self, text: str, session: UnderstandingSession | None = None) -> Understanding:
        """The understanding of ``text`` (synchronous: the stand-in and the evaluation
        call it directly)."""
        toks = tokens(text)
        matches = self._release_places(text, toks, self.lexicon.scan(toks))
        reading = Reading(matches, _best(matches, "category"), _best(matches, "crop"),
                          frozenset(m.kind for m in matches))
        amounts = self.amounts(toks, matches)
        place = self._place(text, toks, matches)
        intent, explicit = _intent(reading, amounts, session)
        u = Understanding(
            intent=intent,
            category=reading.category.key if reading.category and intent is Intent.FIND_SERVICE
            else None,
            crop=reading.crop.key if reading.crop and intent in _PRODUCE else None,
            place=place.name if place else None,
            lat=place.lat if place else None,
            lon=place.lon if place else None,
            quantity=amounts.quantity, unit=amounts.unit, price=amounts.price,
            backend=BACKEND)
        return _with_confidence(u, reading, explicit)

    def _release_places(self, text: str, toks: list[Token], matches: list[Match]) -> list[Match]:
        """A misspelt catalog word that the gazetteer knows is a place (``i Masaka`` is a
        sector of Kicukiro, not ``amasaka``, sorghum; ``Kigarama`` is not ``kilogarama``)."""
        return [m for m in matches
                if not (m.edits and m.kind in ("category", "crop", "unit")
                        and self.resolve_place(text[toks[m.start].start:toks[m.end - 1].end]))]

    def _place(self, text: str, toks: list[Token], matches: list[Match]) -> Place | None:
        for start, end in _place_spans(toks, matches):
            place = self.resolve_place(text[toks[start].start:toks[end - 1].end])
            if place is not None:
                return place
        return None


def _objects(matches: list[Match]) -> set[int]:
    """The matches right after an intent cue, small words aside (``looking for a
    watchman``, ``ndashaka umufundi``): what the user asks for, rather than its context."""
    out: set[int] = set()
    after_cue = False
    for i, m in enumerate(matches):
        if after_cue and m.kind in ("category", "crop"):
            out.add(i)
        if m.kind in ("sell", "buy", "want"):
            after_cue = True
        elif m.kind not in ("filler", "locative") or matches[i - 1].end != m.start:
            after_cue = False
    return out


def _best(matches: list[Match], kind: str) -> Match | None:
    """The key named by the most words (doubled for what follows an intent cue; the first
    listed on a tie), as its best match."""
    score: dict[str, float] = {}
    first: dict[str, Match] = {}
    objects = _objects(matches)
    for i, m in enumerate(matches):
        if m.kind == kind:
            words = (m.end - m.start) * m.phrase.weight * (2 if i in objects else 1)
            score[m.key] = score.get(m.key, 0.0) + words - 0.25 * m.edits
            if m.key not in first or m.edits < first[m.key].edits:
                first[m.key] = m
    if not score:
        return None
    key = max(score, key=lambda k: (score[k], -first[k].phrase.rank))
    return first[key]


def _intent(r: Reading, amounts: Amounts,
            session: UnderstandingSession | None) -> tuple[Intent, bool]:
    """The intent, and whether the text said it (rather than the session or a guess)."""
    known = session.understood.intent if session else Intent.UNKNOWN
    if r.crop and "sell" in r.cues:
        return Intent.SELL_PRODUCE, True
    if r.crop and "buy" in r.cues:
        return Intent.BUY_PRODUCE, True
    if r.category:
        return Intent.FIND_SERVICE, True
    if r.crop:
        if known in _PRODUCE:
            return known, False
        # "beans 50 kg 800 rwf" reads as an offer; "beans in Musanze" as a search.
        offer = amounts.price is not None and "want" not in r.cues
        return (Intent.SELL_PRODUCE if offer else Intent.BUY_PRODUCE), "want" in r.cues
    if "sell" in r.cues:
        return Intent.SELL_PRODUCE, True
    if "buy" in r.cues:
        return Intent.BUY_PRODUCE, True
    return Intent.UNKNOWN, False


def _place_spans(toks: list[Token], matches: list[Match]) -> list[tuple[int, int]]:
    """Spans of words no catalog claims (numbers excluded), longest first, those right
    after a locative before the others."""
    claimed = {i for m in matches for i in range(m.start, m.end)}
    locative_ends = {m.end for m in matches if m.kind == "locative"}
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        if i in claimed or toks[i].is_number:
            i += 1
            continue
        j = i
        while j < len(toks) and j not in claimed and not toks[j].is_number:
            j += 1
        runs.append((i, j))
        i = j
    spans = [(s, s + n) for a, b in runs for n in range(min(_LONGEST_PLACE, b - a), 0, -1)
             for s in range(a, b - n + 1)]
    return sorted(spans, key=lambda sp: (sp[0] not in locative_ends, -(sp[1] - sp[0]), sp[0]))


def _with_confidence(u: Understanding, r: Reading, explicit: bool) -> Understanding:
    """A heuristic in 0..1, not a probability: the share of the fields the intent needs
    that were found (a misspelt word counts three quarters), lowered when the intent was
    inferred rather than said."""
    if u.intent is Intent.UNKNOWN:
        conf = 0.2 if u.found else 0.0
    else:
        need = NEEDS[u.intent]
        quality = {"category": r.category, "crop": r.crop}
        total = 0.0
        for f in need:
            if getattr(u, f) is None:
                continue
            m = quality.get(f)
            total += 0.75 if m is not None and m.edits else 1.0
        conf = total / len(need) * (1.0 if explicit else 0.8)
    return replace(u, confidence=round(conf, 2))
