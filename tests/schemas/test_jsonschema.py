"""The checked-in JSON Schemas agree with the models, and real values validate."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.dlq import DlqDecision
from schemas.domain import DomainEvent
from schemas.jsonschema import generate
from schemas.meta import parse_bytes
from schemas.outbound import OutboundMessage
from schemas.recovery import RecoveryUpdate
from schemas.state import StateTransition
from tests.support import corpus


def _load() -> dict[str, dict[str, Any]]:
    return {p.name: orjson.loads(p.read_bytes()) for p in generate.DIR.glob("*.schema.json")}


def _validators() -> dict[str, Draft202012Validator]:
    """One validator per file; a ``$ref`` to a sibling file resolves through its ``$id``."""
    schemas = _load()
    registry: Registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return {name: Draft202012Validator(s, registry=registry) for name, s in schemas.items()}


def errors(validator: Draft202012Validator, value: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(value)]


def test_checked_in_files_match_the_models() -> None:
    assert generate.differences() == [], "run: .venv/bin/python -m schemas.jsonschema"


def test_a_model_change_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass(frozen=True)
    class Drifted(DomainEvent):
        new_field: int = 0

    monkeypatch.setitem(generate.RECORDS, topics.DOMAIN, (Drifted, "wa_id"))
    assert generate.differences() == [f"{topics.DOMAIN}.schema.json"]


def test_one_file_per_topic_value() -> None:
    names = set(_load())
    for t in topics.all_topics(()):
        assert f"{t}.schema.json" in names, t
    assert "wa.retry.schema.json" in names


def test_every_file_is_a_valid_2020_12_schema() -> None:
    for name, schema in _load().items():
        Draft202012Validator.check_schema(schema)  # raises SchemaError, naming the keyword
        assert schema["$id"].endswith(f"/{name}")


def test_every_corpus_event_and_raw_body_validates() -> None:
    v = _validators()
    for name, raw in corpus.bodies():
        assert errors(v["wa.webhooks.raw.schema.json"], orjson.loads(raw)) == [], name
        for ev in parse_bytes(raw, correlation_id="c", received_at="2026-01-01T00:00:00Z"):
            value = orjson.loads(ev.to_bytes())
            assert errors(v["wa.inbound.schema.json"], value) == [], name
            # and via the retry/dlq schema, which refers to it
            assert errors(v["wa.dlq.schema.json"], value) == [], name


@pytest.mark.parametrize(("topic", "record"), [
    (topics.OUTBOUND, OutboundMessage("e:1", "250700000001", "106540352242922",
                                      {"messaging_product": "whatsapp", "type": "text"})),
    (topics.STATE, StateTransition("250700000001", 3, "e", "rides", "pick_vehicle")),
    (topics.DOMAIN, DomainEvent("d1", "RideRequested", "250700000001", {"km": 2.5})),
    (topics.DELIVERY, DeliveryUpdate("250700000001", "read", wamid="wamid.X")),
    (topics.RECOVERY, RecoveryUpdate("r1", "250700000001", "rides", "reset_to_menu", "done")),
    (topics.DLQ_OPS, DlqDecision("wa.inbound:0:12", "redrive", "ops")),
])
def test_our_records_validate(topic: str, record: Any) -> None:
    validator = _validators()[f"{topic}.schema.json"]
    value = orjson.loads(record.to_bytes())
    assert errors(validator, value) == []
    for key in validator.schema["required"]:  # the checker can say no
        broken = {k: v for k, v in value.items() if k != key}
        assert errors(validator, broken) == [f"$: {key!r} is a required property"]
