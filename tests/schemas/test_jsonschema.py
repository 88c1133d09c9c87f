"""The checked-in JSON Schemas agree with the models, and real values validate."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

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
from tests.support.jsonschema_lite import errors


def _load() -> dict[str, dict[str, Any]]:
    return {p.name: orjson.loads(p.read_bytes()) for p in generate.DIR.glob("*.schema.json")}


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


def test_every_corpus_event_and_raw_body_validates() -> None:
    schemas = _load()
    for name, raw in corpus.bodies():
        assert errors(schemas["wa.webhooks.raw.schema.json"], orjson.loads(raw), schemas) == []
        for ev in parse_bytes(raw, correlation_id="c", received_at="2026-01-01T00:00:00Z"):
            value = orjson.loads(ev.to_bytes())
            assert errors(schemas["wa.inbound.schema.json"], value, schemas) == [], name
            # and via the retry/dlq schema, which refers to it
            assert errors(schemas["wa.dlq.schema.json"], value, schemas) == []


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
    schemas = _load()
    value = orjson.loads(record.to_bytes())
    assert errors(schemas[f"{topic}.schema.json"], value, schemas) == []
    for key in schemas[f"{topic}.schema.json"]["required"]:  # the checker can say no
        broken = {k: v for k, v in value.items() if k != key}
        assert errors(schemas[f"{topic}.schema.json"], broken, schemas) == [f"$: missing {key!r}"]
