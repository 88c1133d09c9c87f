"""The catalogs (``catalog/*.json``) as phrases, and a scan of a text for them.

A scan reads left to right and takes, at each word, the longest phrase that matches
there (each word within the misspellings its catalog word tolerates); a phrase's kind
says what it means: a service ``category``, a ``crop``, a ``unit``, a ``currency``, an
intent cue (``sell``, ``buy``, ``want``), a ``locative`` (a word that introduces a place)
or a ``filler`` (a word that never names a place).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from streams.understanding.text import Token, similar, tokens

#: When phrases of the same length match, the kind listed first wins.
KINDS = ("category", "crop", "sell", "buy", "want", "unit", "currency", "locative", "filler")
CUES = ("sell", "buy", "want", "locative", "filler")


@dataclass(frozen=True, slots=True)
class Phrase:
    kind: str
    key: str  # the category, crop or unit id; the kind for the other kinds
    words: tuple[str, ...]
    accented: bool  # compared with its accents (written with a leading '=')
    rank: int  # its place in the catalog: the first listed wins a tie
    weight: float = 1.0  # a half-weight word (written with a leading '~') names a key
    # only when no other word does


@dataclass(frozen=True, slots=True)
class Match:
    phrase: Phrase
    start: int  # index of its first token
    end: int  # index after its last token
    edits: int  # misspellings forgiven

    @property
    def kind(self) -> str:
        return self.phrase.kind

    @property
    def key(self) -> str:
        return self.phrase.key


@dataclass(frozen=True)
class Lexicon:
    """Every phrase of the catalogs, and the labels of categories, crops and units."""

    phrases: tuple[Phrase, ...]
    names: dict[str, dict[str, dict[str, str]]]  # kind -> id -> lang -> label
    _by_first: dict[tuple[str, bool], list[Phrase]] = field(init=False, repr=False,
                                                            compare=False)
    _words: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _near: Callable[[str], dict[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_first: dict[tuple[str, bool], list[Phrase]] = {}
        for p in self.phrases:
            by_first.setdefault((p.words[0], p.accented), []).append(p)
        object.__setattr__(self, "_by_first", by_first)
        words = {w for p in self.phrases if not p.accented for w in p.words}
        object.__setattr__(self, "_words", tuple(sorted(words)))
        # The words of a text repeat (across texts too): each is compared with the
        # catalog once.
        object.__setattr__(self, "_near", functools.lru_cache(maxsize=16384)(self._near_words))

    def _near_words(self, seen: str) -> dict[str, int]:
        """The catalog words within reach of ``seen``, with the edits between them."""
        out: dict[str, int] = {}
        if seen[0].isdigit():
            return out
        for word in self._words:
            if abs(len(word) - len(seen)) <= 3:  # two edits, or an ending of three letters
                d = similar(seen, word)
                if d is not None:
                    out[word] = d
        return out

    def ids(self, kind: str) -> tuple[str, ...]:
        return tuple(self.names[kind])

    def scan(self, toks: list[Token]) -> list[Match]:
        """The phrases found in ``toks``, leftmost-longest, none overlapping."""
        found: list[Match] = []
        i = 0
        while i < len(toks):
            best = self._best_at(toks, i)
            if best is None:
                i += 1
            else:
                found.append(best)
                i = best.end
        return found

    def _best_at(self, toks: list[Token], i: int) -> Match | None:
        best: Match | None = None
        best_key: tuple[int, int, int, int] | None = None
        first = toks[i]
        candidates = list(self._by_first.get((first.lower, True), []))
        for word in self._near(first.norm):
            candidates += self._by_first.get((word, False), [])
        for p in candidates:
            n = len(p.words)
            if i + n > len(toks):
                continue
            edits = 0
            for word, tok in zip(p.words, toks[i:i + n], strict=True):
                if p.accented:
                    d = 0 if tok.lower == word else None
                else:
                    d = self._near(tok.norm).get(word)
                if d is None:
                    break
                edits += d
            else:
                key = (-n, edits, KINDS.index(p.kind), p.rank)
                if best_key is None or key < best_key:
                    best, best_key = Match(p, i, i + n, edits), key
        return best


def _phrase(kind: str, key: str, raw: str, rank: int) -> Phrase:
    accented, weak = raw.startswith("="), raw.startswith("~")
    text = raw[1:] if accented or weak else raw
    words = tuple(t.lower if accented else t.norm for t in tokens(text))
    if not words:
        raise ValueError(f"empty {kind} phrase {raw!r} for {key!r}")
    return Phrase(kind, key, words, accented, rank, 0.5 if weak else 1.0)


def _entries(kind: str, entries: list[dict[str, Any]], out: list[Phrase],
             names: dict[str, dict[str, dict[str, str]]]) -> None:
    names[kind] = {}
    for rank, entry in enumerate(entries):
        names[kind][entry["id"]] = entry["names"]
        words = entry["words"]
        for raw in (w for ws in words.values() for w in ws) if isinstance(words, dict) else words:
            out.append(_phrase(kind, entry["id"], raw, rank))


def _read(name: str) -> Any:
    return json.loads(resources.files("streams.understanding.catalog").joinpath(name)
                      .read_text(encoding="utf-8"))


@functools.cache
def lexicon() -> Lexicon:
    """The catalogs shipped in ``streams/understanding/catalog/`` (read once)."""
    phrases: list[Phrase] = []
    names: dict[str, dict[str, dict[str, str]]] = {}
    _entries("category", _read("services.json")["categories"], phrases, names)
    _entries("crop", _read("crops.json")["crops"], phrases, names)
    units = _read("units.json")
    _entries("unit", units["units"], phrases, names)
    phrases += [_phrase("currency", "currency", w, 0) for w in units["currency"]]
    cues = _read("cues.json")
    for kind in CUES:
        phrases += [_phrase(kind, kind, w, 0) for ws in cues[kind].values() for w in ws]
    unique: dict[tuple[str, str, tuple[str, ...], bool], Phrase] = {}
    for p in phrases:
        unique.setdefault((p.kind, p.key, p.words, p.accented), p)
    return Lexicon(tuple(unique.values()), names)


def label(kind: str, key: str, lang: str) -> str:
    """The label of a category, crop or unit in ``lang`` (English when missing)."""
    labels = lexicon().names[kind][key]
    return labels.get(lang) or labels["en"]


