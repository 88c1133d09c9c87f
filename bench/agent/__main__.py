"""Print the rule-based backend's accuracy on the labelled set, per language:
``python -m bench.agent [--misses]``.

Place accuracy needs the gazetteer (``streams.places``); without it this says so and
prints no number for places.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from bench.agent import DATA, LANGS, METRICS, SPLITS, evaluate, load
from streams.understanding.model import Understanding
from streams.understanding.places import gazetteer, no_places
from streams.understanding.rules import RuleBased


def _table(title: str, rows: list[dict[str, Any]], read: Callable[[str], Understanding],
           places: bool, misses: bool) -> None:
    tallies = evaluate(rows, read, places)
    counts = {lang: sum(r["lang"] == lang for r in rows) for lang in LANGS}
    print(f"\n{title}: {len(rows)} texts "
          f"({', '.join(f'{n} {lang}' for lang, n in counts.items())})")
    print(f"{'':10}" + "".join(f"{lang:>18}" for lang in (*LANGS, "all")))
    for metric in METRICS:
        if metric == "place" and not places:
            print(f"{'place':10}  not measured: the gazetteer (streams.places) is not in this "
                  "tree yet, so no place can be resolved")
            continue
        print(f"{metric:10}" + "".join(f"{tallies[metric][lang]!s:>18}"
                                       for lang in (*LANGS, "all")))
    if misses:
        for metric, by_lang in tallies.items():
            for row_id, text, want, got in by_lang["all"].misses:
                print(f"  {metric} {row_id}: want {want!r}, got {got!r}: {text}")


def main(argv: list[str]) -> int:
    rows = load()
    resolve = gazetteer()
    rules = RuleBased(resolve_place=resolve or no_places)
    started = time.perf_counter()
    for row in rows:
        rules.read(row["text"])
    per_text_ms = 1000 * (time.perf_counter() - started) / len(rows)
    print(f"rule-based backend on {DATA.relative_to(DATA.parents[2])} "
          f"({per_text_ms:.1f} ms a text)")
    for split in SPLITS:
        _table(f"{split}: {SPLITS[split]}", [r for r in rows if r["split"] == split],
               rules.read, resolve is not None, "--misses" in argv)
    _table("all", rows, rules.read, resolve is not None, False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
