"""Evaluation of the rule-based understanding on the labelled need texts in
``tests/data/agent_eval.jsonl`` (``python -m bench.agent``; the test
``tests/understanding/test_evaluation.py`` holds the floor).

Each row: ``id``, ``lang`` (en, fr, rw: the language the text is mostly in), ``text``,
the expected ``intent``, ``category`` (a service) or ``crop`` (produce), and ``place``
(null: the text names none, and the backend must not invent one), and the ``split``
(see :data:`SPLITS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.understanding.model import Understanding
from streams.understanding.text import fold

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "agent_eval.jsonl"
LANGS = ("en", "fr", "rw")
METRICS = ("category", "intent", "place")
SPLITS = {
    "dev": "written with the catalogs in view, and used to improve them",
    "holdout1": "written after; measured once (75.0% category), then used to improve them",
    "holdout2": "written after that; measured once (65.0% category), then used to improve them",
    "holdout3": "written after that; measured once before any change",
}


@dataclass
class Tally:
    right: int = 0
    total: int = 0
    misses: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # id, text, want, got

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def add(self, row: dict[str, Any], want: Any, got: Any) -> None:
        self.total += 1
        if want == got:
            self.right += 1
        else:
            self.misses.append((row["id"], row["text"], want, got))

    def __str__(self) -> str:
        return f"{100 * self.accuracy:5.1f}% ({self.right}/{self.total})"


def load(path: Path = DATA) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _place(name: str | None) -> str | None:
    return fold(name) if name else None


def evaluate(rows: Iterable[dict[str, Any]], read: Callable[[str], Understanding],
             places: bool) -> dict[str, dict[str, Tally]]:
    """Tallies by metric, then by language (and ``all``). ``category`` compares the
    service category, or the crop for produce; ``place`` (only when ``places``) the
    place name, folded."""
    out = {m: {lang: Tally() for lang in (*LANGS, "all")} for m in METRICS}
    for row in rows:
        u = read(row["text"])
        got = {"category": u.category or u.crop, "intent": u.intent.value,
               "place": _place(u.place)}
        want = {"category": row["category"] or row["crop"], "intent": row["intent"],
                "place": _place(row["place"])}
        for m in METRICS:
            if m == "place" and not places:
                continue
            for lang in (row["lang"], "all"):
                out[m][lang].add(row, want[m], got[m])
    return out
