"""``wastream vendors import FILE.csv``: many vendors at once, each row an event.

The header must hold ``name,wa_id,categories,lat,lon`` (categories separated by ``;``,
each a service id or a name the catalogs know, e.g. ``plumber;Maçon``). A file missing
a column is refused before anything is written. A bad row is reported with its line
number and the good rows still go in.

Each good row becomes ``wastream.broker.import`` on ``wa.inbound``, keyed by the
vendor's wa_id, so it reaches the vendor's own conversation (``vendor.on_import``),
ordered with anything the vendor does in WhatsApp, which emits ``VendorRegistered``
only when the row changes the business. The event id is a hash of the row: a
re-import is a duplicate within the dedupe window and a no-op after it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import InboundEvent
from streams.places import resolve
from streams.understanding.rules import RuleBased

COLUMNS = ("name", "wa_id", "categories", "lat", "lon")
EVENT_TYPE = "wastream.broker.import"


class CsvRefused(ValueError):
    """The file cannot be imported at all (nothing was written)."""


@dataclass
class Parsed:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line N: why"


def _category(word: str) -> str | None:
    from streams.understanding.lexicon import lexicon

    w = word.strip()
    if w in lexicon().ids("category"):
        return w
    u = RuleBased().read(w)
    return u.category


def parse(text: str) -> Parsed:
    """The rows of a vendors CSV; CsvRefused when a column is missing."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CsvRefused(f"missing column(s): {', '.join(missing)} "
                           f"(the header must hold {','.join(COLUMNS)})")
    out = Parsed()
    for row in reader:
        line = reader.line_num
        try:
            out.rows.append(_row(row))
        except ValueError as exc:
            out.errors.append(f"line {line}: {exc}")
    return out


def _row(row: dict[str, str | None]) -> dict[str, Any]:
    name = (row.get("name") or "").strip()
    wa_id = (row.get("wa_id") or "").strip().lstrip("+")
    if not name:
        raise ValueError("no name")
    if not (wa_id.isdigit() and 8 <= len(wa_id) <= 15):
        raise ValueError(f"wa_id {wa_id!r} is not a phone number in international form")
    cats: list[str] = []
    for word in (row.get("categories") or "").split(";"):
        if not word.strip():
            continue
        cat = _category(word)
        if cat is None:
            raise ValueError(f"unknown category {word.strip()!r}")
        if cat not in cats:
            cats.append(cat)
    if not cats:
        raise ValueError("no category")
    try:
        lat, lon = float(row.get("lat") or ""), float(row.get("lon") or "")
    except ValueError:
        raise ValueError("lat/lon are not numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
            and -180 <= lon <= 180):
        raise ValueError(f"({lat}, {lon}) is not a point")
    near = resolve(name)  # the district is for analytics; a name rarely names a place
    return {"name": name, "wa_id": wa_id, "categories": cats, "lat": lat, "lon": lon,
            "district": near.district if near else ""}


def event(row: dict[str, Any], now: float) -> InboundEvent:
    """The internal event of one row; its id is a hash of the row."""
    digest = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:24]
    payload = {k: row[k] for k in ("name", "categories", "lat", "lon", "district")}
    return InboundEvent(
        event_id=f"vendor-import:{digest}", type=EVENT_TYPE, wa_id=row["wa_id"],
        phone_number_id=None, timestamp=int(now),
        received_at=datetime.fromtimestamp(now, UTC).isoformat(),
        correlation_id=f"vendor-import:{digest}", payload=payload, field="wastream")
