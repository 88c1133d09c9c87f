"""Parsing ``wastream vendors import`` files: a missing column refuses the file, a bad
row is reported with its line number, the good rows go in, ids are deterministic."""

from __future__ import annotations

import pytest

from streams.domains.broker.imports import CsvRefused, event, parse

GOOD = ("name,wa_id,categories,lat,lon\n"
        "Amazi Fix,250788000601,plumber,-1.95,30.10\n"
        "Bad Row,not-a-number,plumber,-1.95,30.10\n"
        "Pipe Pro,+250788000602,Plombier;maçon,-1.96,30.11\n"
        "Nowhere,250788000603,astronaut,-1.96,30.11\n")


def test_a_file_missing_a_column_is_refused() -> None:
    with pytest.raises(CsvRefused, match="lon"):
        parse("name,wa_id,categories,lat\nA,250788000601,plumber,-1.9\n")


def test_bad_rows_are_reported_by_line_and_good_rows_kept() -> None:
    p = parse(GOOD)
    assert [(r["wa_id"], r["categories"]) for r in p.rows] == [
        ("250788000601", ["plumber"]), ("250788000602", ["plumber", "mason"])]
    assert [e.split(":")[0] for e in p.errors] == ["line 3", "line 5"]
    assert "astronaut" in p.errors[1]


def test_the_same_row_is_the_same_event() -> None:
    a, b = parse(GOOD).rows[0], parse(GOOD).rows[0]
    assert event(a, 1.0).event_id == event(b, 2.0).event_id
    assert event(a, 1.0).event_id != event(parse(GOOD).rows[1], 1.0).event_id
