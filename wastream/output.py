"""How commands print what they list or report: aligned text tables with a header row,
or JSON (``--json``) for scripts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned on the widest cell, the header first; the last column is not
    padded (no trailing blanks)."""
    cells = [[str(c) for c in header], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in cells]
    return "\n".join(lines)


def emit_json(value: Any) -> None:
    """``value`` as one JSON document on stdout (datetimes as ISO 8601)."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
                                  default=str).decode() + "\n")
