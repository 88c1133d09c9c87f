"""The shipped template catalog passes Meta's rules, and each rule catches its case."""

from __future__ import annotations

import pytest

from streams.engine.templates import Template, check, problems
from wastream.cli import main
from wastream.templates import shipped

GOOD = {"en": "Hello {{1}}, see you at {{2}}.", "fr": "Bonjour {{1}}, à {{2}}.",
        "rw": "Muraho {{1}}, saa {{2}}."}


def test_the_shipped_catalog_passes_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert check(shipped()) == []
    assert main(["templates", "check"]) == 0
    assert "no problem found" in capsys.readouterr().out
    names = {t.name for t in shipped()}
    assert {"ride_request", "trip_reminder", "broker_vendor_request", "jobs_application",
            "rentals_inquiry", "rentals_renew"} <= names


@pytest.mark.parametrize(("change", "expected"), [
    ({"name": "Ride-Request"}, "the name must be"),
    ({"bodies": {**GOOD, "en": "{{1}} is here at {{2}} now."}}, "start or the end"),
    ({"bodies": {**GOOD, "en": "Hello, see you {{1}} at {{2}}"}}, "start or the end"),
    ({"bodies": {**GOOD, "en": "Hello {{2}}, see you at {{1}}."}}, "in order"),
    ({"bodies": {**GOOD, "en": "Hello {{1}}, see you at {{3}}."}}, "in order"),
    ({"bodies": {**GOOD, "en": "Hello {{1}} " + "x" * 1024 + " {{2}}."}}, "characters"),
    ({"bodies": {**GOOD, "en": "Hello {{1}}, see you at {time}."}}, "stray brace"),
    ({"bodies": {"en": GOOD["en"], "fr": GOOD["fr"]}}, "rw: no body"),
    ({"examples": ("Aline",)}, "2 parameters but 1 examples"),
    ({"examples": ("Aline", " ")}, "an example is empty"),
    ({"buttons": {"en": ("A" * 26,), "fr": ("B",), "rw": ("C",)}}, "over 25 chars"),
    ({"buttons": {"en": ("A", "B", "C", "D"), "fr": ("A", "B", "C", "D"),
                  "rw": ("A", "B", "C", "D")}}, "more than 3 quick replies"),
    ({"buttons": {"en": ("A", "B"), "fr": ("A",), "rw": ("A", "B")}}, "1 buttons, en has 2"),
])
def test_each_rule_catches_its_case(change: dict[str, object], expected: str) -> None:
    base: dict[str, object] = {"name": "trip_soon", "bodies": GOOD,
                               "examples": ("Aline", "08:00")}
    assert problems(Template(**base)) == []  # type: ignore[arg-type]
    found = problems(Template(**{**base, **change}))  # type: ignore[arg-type]
    assert any(expected in p for p in found), found


def test_a_name_declared_twice_is_refused() -> None:
    t = Template("x", {"en": "a", "fr": "a", "rw": "a"})
    assert check([t, t]) == ["x: declared twice"]
