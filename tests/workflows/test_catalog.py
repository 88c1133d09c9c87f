"""The catalogs: same keys and placeholders in every language, and WhatsApp's limits
(list rows ≤10, row title ≤24, description ≤72; buttons ≤3, title ≤20) never need the
builders' truncation."""

from __future__ import annotations

import string
from typing import Any

import pytest

from streams.engine import messages as m
from streams.engine.catalog import LANGUAGE_NAMES, LANGUAGES, en, text
from streams.engine.menu import ITEMS
from tests.support.engine_harness import Harness

ROW_TITLES = [f"menu.{k}" for k, _ in ITEMS] + [
    f"vehicle.{v}" for v in ("moto", "cab", "lifan", "truck")
]
ROW_TITLES_FMT = ["drivers.row", "passengers.row"]
ROW_DESCS = [f"menu.{k}.desc" for k, _ in ITEMS]
BUTTONS = [
    "ride.accept",
    "ride.decline",
    "schedule.new",
    "schedule.list",
    "schedule.today",
    "schedule.tomorrow",
    "schedule.yes",
    "schedule.no",
    "miss3.button",
    "menu.button",
    "vehicle.button",
    "drivers.button",
    "passengers.button",
    "schedule.button",
    "schedule.slot.button",
]


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_language_has_every_key_with_the_same_placeholders(lang: str) -> None:
    cat = LANGUAGES[lang]
    assert set(cat) == set(en.MESSAGES)
    for key, value in en.MESSAGES.items():
        assert _fields(cat[key]) == _fields(value), key


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_titles_fit_whatsapp_limits(lang: str) -> None:
    for key in ROW_TITLES:
        assert len(text(lang, key)) <= m.MAX_ROW_TITLE, key
    for key in ROW_TITLES_FMT:
        assert len(text(lang, key, n=10)) <= m.MAX_ROW_TITLE, key
    for key in ROW_DESCS:
        assert len(text(lang, key)) <= m.MAX_ROW_DESC, key
    assert len(text(lang, "drivers.row.desc", km="9999.9")) <= m.MAX_ROW_DESC
    for key in BUTTONS:
        assert len(text(lang, key)) <= m.MAX_BUTTON_TITLE, key
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
        h.index.online[f"2507{i:08d}"] = {
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
