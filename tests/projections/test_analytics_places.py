"""The gazetteer's block of ``analytics.sql`` (``analytics_places``: the district of
every place a need may name) is generated, and the check fails when it drifts."""

from __future__ import annotations

from projections import analytics


def test_the_places_block_is_the_gazetteer() -> None:
    sql = analytics.SQL_FILE.read_text(encoding="utf-8")
    names = analytics.gazetteer_names()
    assert analytics.with_places(sql, names) == sql
    assert "    ('Remera', 'Gasabo')," in sql
    assert sql.count("    ('Kicukiro', 'Kicukiro')") == 1  # district and sector: one row
    moved = analytics.with_places(sql, [*names, ("Nowhere", "Elsewhere")])
    assert moved != sql
    assert "    ('Nowhere', 'Elsewhere')" in moved
