"""Typed domain events: the records written before versions existed, and older
versions, read as the current classes (upcasters); a JSON Schema per event type."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import orjson
import pytest
from jsonschema import Draft202012Validator

from schemas.domain import DomainEvent, Event, EventTypes
from schemas.jsonschema import generate
from schemas.record import RecordError
from streams.domains import event_types
from streams.domains.rides import events as rides
from tests.domains.parrot.events import WordLearned

# ``data`` of each rides event exactly as the code before typed events wrote it (dicts
# built by hand in the flows), in records without a ``version``.
WRITTEN_BEFORE: dict[str, dict[str, Any]] = {
    "RideSearched": {"vehicle": "moto", "lat": -1.9441, "lon": 30.0619, "until": 1790001800.0},
    "RideRequested": {"request_id": "5f0c1d2e3a4b", "passenger": "250788000201",
                      "driver": "250788000301", "vehicle": "moto", "km": 1.11},
    "RideAccepted": {"request_id": "5f0c1d2e3a4b", "passenger": "250788000201",
                     "driver": "250788000301"},
    "RideDeclined": {"request_id": "5f0c1d2e3a4b", "passenger": "250788000201",
                     "driver": "250788000301"},
    "RideTimedOut": {"request_id": "5f0c1d2e3a4b", "driver": "250788000301",
                     "passenger": "250788000201"},
    "DriverOnline": {"vehicle": "cab", "lat": -1.93, "lon": 30.06, "until": 1790001800.0},
    "DriverOffline": {"reason": "stop"},
    "RideOffered": {"driver": "250788000301", "passenger": "250788000201", "vehicle": "cab",
                    "km": 2.2},
    "TripScheduled": {"trip_id": "0a1b2c3d4e", "when": 1790090000.0, "vehicle": "cab",
                      "pickup": [-1.95, 30.06], "dropoff": [-1.97, 30.1]},
    "TripCancelled": {"trip_id": "0a1b2c3d4e"},
    "TripReminderSent": {"trip_id": "0a1b2c3d4e"},
}


def _old_record(name: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"event_id": f"wamid.X:{name}", "name": name, "wa_id": "250788000201",
                         "data": data, "caused_by": "wamid.X", "at": "2026-09-21T10:00:00+00:00",
                         "correlation_id": "c1", "schema_version": 1})


def test_every_rides_record_written_before_versions_reads_as_its_class() -> None:
    types = event_types()
    assert {c.type for c in rides.EVENTS} == set(WRITTEN_BEFORE)
    for name, data in WRITTEN_BEFORE.items():
        env = DomainEvent.from_bytes(_old_record(name, data))
        assert env.version == 1
        event = types.decode(env)
        assert type(event).__name__ == name
        assert event is not None
        assert event.to_data() == data  # the same fields, the same values


def test_the_wire_format_is_the_envelope_with_the_version() -> None:
    ev = rides.TripCancelled(trip_id="t1")
    env = DomainEvent(event_id="e:TripCancelled", name=ev.type, wa_id="u", data=ev.to_data(),
                      version=ev.version)
    assert orjson.loads(env.to_bytes())["data"] == {"trip_id": "t1"}
    assert orjson.loads(env.to_bytes())["version"] == 1
    assert event_types().decode(DomainEvent.from_bytes(env.to_bytes())) == ev


def test_an_older_version_is_upcast_a_newer_one_refused() -> None:
    types = EventTypes([WordLearned])

    def env(version: int, data: dict[str, Any]) -> DomainEvent:
        return DomainEvent("e", "WordLearned", "u", data, version=version)

    assert types.decode(env(1, {"text": "mango"})) == WordLearned(word="mango", lang="en")
    assert types.decode(env(2, {"word": "mango", "lang": "fr"})) == WordLearned("mango", "fr")
    assert types.decode(env(2, {"word": "x", "lang": "fr", "later": 1})) == WordLearned("x", "fr")
    with pytest.raises(RecordError, match="version 3 is newer"):
        types.decode(env(3, {"word": "mango", "lang": "fr"}))
    with pytest.raises(RecordError, match="not a WordLearned v2"):
        types.decode(env(2, {"word": "mango"}))
    assert types.decode(DomainEvent("e", "NoSuchType", "u", {})) is None


def test_upcasters_chain_one_version_at_a_time() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Moved(Event):
        type: ClassVar[str] = "Moved"
        version: ClassVar[int] = 3
        upcasters: ClassVar[Any] = {
            1: lambda d: {"km": d["metres"] / 1000},
            2: lambda d: {**d, "unit": "km"},
        }
        km: float
        unit: str

    types = EventTypes([Moved])
    assert types.decode(DomainEvent("e", "Moved", "u", {"metres": 1500})) == Moved(1.5, "km")
    assert types.decode(DomainEvent("e", "Moved", "u", {"km": 2.0}, version=2)) == Moved(2, "km")

    @dataclasses.dataclass(frozen=True, slots=True)
    class AlsoMoved(Event):
        type: ClassVar[str] = "Moved"

    with pytest.raises(ValueError, match="event type 'Moved' declared twice"):
        EventTypes([Moved, AlsoMoved])


def test_every_declared_event_has_a_checked_in_schema_and_validates() -> None:
    names = {p.name for p in (generate.DIR / "events").glob("*.schema.json")}
    assert names == {f"{c.type}.schema.json" for c in event_types()}
    for name, data in WRITTEN_BEFORE.items():
        schema = orjson.loads((generate.DIR / "events" / f"{name}.schema.json").read_bytes())
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        assert list(validator.iter_errors(data)) == [], name
        for key in schema["required"]:  # the schema can say no
            assert list(validator.iter_errors({k: v for k, v in data.items() if k != key}))


def test_an_event_change_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class TripCancelled(Event):
        type: ClassVar[str] = "TripCancelled"
        trip_id: str
        reason: str = ""

    real = generate.domain_events()
    monkeypatch.setattr(generate, "domain_events", lambda: [
        (d, TripCancelled if c.type == "TripCancelled" else c) for d, c in real])
    assert generate.differences() == ["events/TripCancelled.schema.json"]
