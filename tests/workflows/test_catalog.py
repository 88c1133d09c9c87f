"""The catalogs: the engine's and every domain's have the same keys and placeholders in
every language, and WhatsApp's limits (list rows ≤10, row title ≤24, description ≤72;
buttons ≤3, title ≤20) never need the builders' truncation."""

from __future__ import annotations

from typing import Any

import pytest

from streams.domains import REGISTRY
from streams.domains.rides.catalog import TEXTS as RIDES
from streams.domains.rides.index import RidesIndex
from streams.engine import messages as m
from streams.engine.catalog import GENERIC, LANGUAGE_NAMES, LANGUAGES, Catalog
from streams.engine.domains import Domains, load
from tests.support.engine_harness import Harness

CATALOGS: dict[str, Catalog] = {"engine": GENERIC} | {
    d.name: d.texts for d in load(REGISTRY) if d.texts is not None
}
MENU = Domains.of(load(REGISTRY)).menu
ROW_TITLES = [f"vehicle.{v}" for v in ("moto", "cab", "lifan", "truck")]
ROW_TITLES_FMT = ["drivers.row", "passengers.row"]
BUTTONS = [
    "ride.accept",
    "ride.decline",
    "schedule.new",
    "schedule.list",
    "schedule.today",
    "schedule.tomorrow",
    "schedule.yes",
    "schedule.no",
    "vehicle.button",
    "drivers.button",
    "passengers.button",
    "schedule.button",
    "schedule.slot.button",
]


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_every_catalog_has_every_key_in_every_language_with_the_same_placeholders(
    name: str,
) -> None:
    cat = CATALOGS[name]
    assert sorted(cat.messages) == sorted(LANGUAGES) == ["en", "fr", "rw"]
    assert cat.problems() == []


def test_the_completeness_check_can_say_no() -> None:
    en = dict(RIDES.messages["en"])
    fr = dict(RIDES.messages["fr"])
    del fr["ride.accept"]
    fr["ride.sent"] = "Demande envoyée."  # lost {minutes}
    broken = Catalog({"en": en, "fr": fr})
    assert broken.problems() == [
        "fr lacks 'ride.accept'",
        "fr 'ride.sent' placeholders differ from English",
        "no rw texts",
    ]


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_titles_fit_whatsapp_limits(lang: str) -> None:
    assert len(MENU) <= m.MAX_ROWS
    for entry, texts in MENU:
        assert len(texts.text(lang, f"menu.{entry.key}")) <= m.MAX_ROW_TITLE, entry
        assert len(texts.text(lang, f"menu.{entry.key}.desc")) <= m.MAX_ROW_DESC, entry
    for key in ROW_TITLES:
        assert len(RIDES.text(lang, key)) <= m.MAX_ROW_TITLE, key
    for key in ROW_TITLES_FMT:
        assert len(RIDES.text(lang, key, n=10)) <= m.MAX_ROW_TITLE, key
    assert len(RIDES.text(lang, "drivers.row.desc", km="9999.9")) <= m.MAX_ROW_DESC
    for key in BUTTONS:
        assert len(RIDES.text(lang, key)) <= m.MAX_BUTTON_TITLE, key
    for key in ("miss3.button", "menu.button"):
        assert len(GENERIC.text(lang, key)) <= m.MAX_BUTTON_TITLE, key
    for name in LANGUAGE_NAMES.values():
        assert len(name) <= m.MAX_BUTTON_TITLE


def check_limits(body: dict[str, Any]) -> None:
    """Assert a Graph API body respects the interactive limits, untruncated."""
    inter = body.get("interactive") or {}
    if inter.get("type") == "list":
        rows = [r for s in inter["action"]["sections"] for r in s["rows"]]
        assert 1 <= len(rows) <= m.MAX_ROWS
        assert len(inter["action"]["button"]) <= m.MAX_LIST_BUTTON
        assert len({r["id"] for r in rows}) == len(rows)
        for r in rows:
            assert len(r["title"]) <= m.MAX_ROW_TITLE, r
            assert not r["title"].endswith("…"), r
            assert len(r.get("description", "")) <= m.MAX_ROW_DESC, r
    elif inter.get("type") == "button":
        buttons = inter["action"]["buttons"]
        assert 1 <= len(buttons) <= m.MAX_BUTTONS
        for b in buttons:
            assert len(b["reply"]["title"]) <= m.MAX_BUTTON_TITLE
            assert not b["reply"]["title"].endswith("…")
    body_text = (inter.get("body") or {}).get("text") or (body.get("text") or {}).get("body")
    assert body_text
    assert not body_text.endswith("…")


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_prompt_of_every_flow_fits(lang: str) -> None:
    h = Harness()
    for i in range(12):  # more drivers than a list can hold
        h.model("rides", RidesIndex).online[f"2507{i:08d}"] = {
            "vehicle": "moto",
            "lat": -1.95 + i * 0.001,
            "lon": 30.06,
            "until": h.now + 600,
        }
    u = "250700000001"
    h.say(u, "hi")
    h.pick(u, "menu:language")
    h.tap(u, f"lang:{lang}")
    h.pick(u, "menu:rides_drivers")
    h.pick(u, "vehicle:moto")
    h.share(u, -1.95, 30.06)
    h.pick(u, "driver:250700000000")
    h.say(u, "menu")
    h.pick(u, "menu:rides_schedule")
    h.tap(u, "sched:new")
    h.share(u, -1.95, 30.06)
    h.share(u, -1.96, 30.07)
    h.tap(u, "day:1")
    h.say(u, "nonsense")
    h.say(u, "nonsense")
    h.say(u, "nonsense")
    assert len(h.sent) > 15
    for body in h.sent:
        check_limits(body)


def test_builders_truncate_what_does_not_fit() -> None:
    body = m.list_body(
        "1",
        "b",
        "a very long button label here",
        [m.Option(str(i), "x" * 30, "y" * 80) for i in range(12)],
    )
    rows = body["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 10
    assert len(rows[0]["title"]) == 24
    assert len(rows[0]["description"]) == 72
    btn = m.buttons_body("1", "b", [m.Option(str(i), "z" * 25) for i in range(4)])
    assert [len(b["reply"]["title"]) for b in btn["interactive"]["action"]["buttons"]] == [
        20,
        20,
        20,
    ]
