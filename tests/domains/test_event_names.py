"""The names of the domain events have one source, the domains' typed events: the
analytics SQL's list is generated from them (and uses no other name), and the
projection of ``wa.domain`` stores each event in its type's current version."""

from __future__ import annotations

import dataclasses
import re
from typing import ClassVar

from projections import analytics
from projections.domain_events import current_data
from schemas.domain import DomainEvent, Event, EventTypes
from streams.domains import declared_events, event_types
from tests.domains.parrot.events import WordLearned

_CAMEL = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b")  # RideRequested, TripReminderSent


def test_the_sql_block_is_generated_from_the_declared_events() -> None:
    sql = analytics.SQL_FILE.read_text(encoding="utf-8")
    assert analytics.with_event_types(sql, declared_events()) == sql, (
        "run: python -m projections.analytics")
    assert analytics.main(["--check"]) == 0


def test_the_sql_names_no_event_nobody_declares() -> None:
    declared = {c.type for c in event_types()}
    used = set(_CAMEL.findall(analytics.SQL_FILE.read_text(encoding="utf-8")))
    assert used - declared == set()
    assert declared <= used  # through the generated block


def test_a_new_or_bumped_event_makes_the_check_fail() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class RideRated(Event):
        type: ClassVar[str] = "RideRated"
        stars: int

    sql = analytics.SQL_FILE.read_text(encoding="utf-8")
    added = analytics.with_event_types(sql, [*declared_events(), ("rides", RideRated)])
    assert added != sql
    assert "('rides', 'RideRated', 1)" in added
    assert analytics.with_event_types(sql, [("parrot", WordLearned)]).count("'WordLearned', 2")
    empty = analytics.with_event_types(sql, [])
    assert "WHERE false" in empty


def test_the_projection_stores_the_current_version() -> None:
    types = EventTypes([WordLearned])
    old = DomainEvent("e1", "WordLearned", "u", {"text": "mango"}, version=1)
    assert current_data(types, old) == {"word": "mango", "lang": "en"}
    newer = DomainEvent("e2", "WordLearned", "u", {"word": "mango", "x": 1}, version=3)
    assert current_data(types, newer) == {"word": "mango", "x": 1}  # as written
    unknown = DomainEvent("e3", "JobPosted", "u", {"title": "cook"})
    assert current_data(types, unknown) == {"title": "cook"}
    misfit = DomainEvent("e4", "WordLearned", "u", {"word": "mango"}, version=2)
    assert current_data(types, misfit) == {"word": "mango"}
