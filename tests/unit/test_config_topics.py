from __future__ import annotations

import pytest

from schemas import topics
from schemas.envelope import EnvelopeError, InboundEvent
from wastream.admin import topic_plan
from wastream.config import ConfigError, Settings


def test_prefix_applies_to_topics_groups_and_app_id() -> None:
    s = Settings.from_env({"WASTREAM_TOPIC_PREFIX": "blue-", "WASTREAM_PARTITIONS": "3"})
    assert s.topic("wa.inbound") == "blue-wa.inbound"
    assert s.group("projector") == "blue-projector"
    assert s.faust_app_id == "blue-wastream"
    plan = topic_plan(s)
    assert plan["blue-wa.inbound"] == 3
    assert all(name.startswith("blue-") for name in plan)
    assert set(plan.values()) == {3}  # co-partitioned


def test_retry_tiers_follow_configured_delays() -> None:
    s = Settings.from_env({"WASTREAM_RETRY_DELAYS": "1s,90s,2m"})
    names = set(topic_plan(s))
    assert {"wa.retry.1s", "wa.retry.90s", "wa.retry.2m"} <= names
    assert topics.parse_delays(None) == (60, 120, 240)
    assert topics.retry_topic(7200) == "wa.retry.2h"


def test_bad_settings_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="WASTREAM_PARTITIONS"):
        Settings.from_env({"WASTREAM_PARTITIONS": "many"})
    with pytest.raises(ConfigError, match="WASTREAM_DB_SCHEMA"):
        Settings.from_env({"WASTREAM_DB_SCHEMA": "x; DROP TABLE"})


def test_envelope_round_trip_keeps_unknown_fields() -> None:
    raw = (
        b'{"event_id":"wamid.1","type":"message.text","wa_id":"250700","phone_number_id":"1",'
        b'"timestamp":"1700000000","received_at":"2026-01-01T00:00:00Z","correlation_id":"c",'
        b'"schema_version":2,"payload":{"text":{"body":"hi"}},"future_field":[1]}'
    )
    ev = InboundEvent.from_bytes(raw)
    assert ev.timestamp == 1700000000
    assert ev.payload == {"text": {"body": "hi"}}
    assert ev.extra == {"future_field": [1]}
    assert InboundEvent.from_bytes(ev.to_bytes()) == ev


@pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b'{"type":"message.text"}'])
def test_bad_envelopes_raise_the_typed_error(raw: bytes) -> None:
    with pytest.raises(EnvelopeError):
        InboundEvent.from_bytes(raw)
