"""Forward and backward compatibility of the wa.inbound envelope (pure)."""

from __future__ import annotations

import orjson

from schemas.envelope import SCHEMA_VERSION, InboundEvent

BASE = {"event_id": "wamid.A", "type": "message.text", "wa_id": "250700000001",
        "phone_number_id": "1", "timestamp": 1700000000, "received_at": "2026-01-01T00:00:00Z",
        "correlation_id": "c", "payload": {"text": {"body": "hi"}}}


def test_a_record_written_before_profile_name_existed_reads() -> None:
    ev = InboundEvent.from_bytes(orjson.dumps({**BASE, "schema_version": 1}))
    assert ev.profile_name is None
    assert ev.payload == {"text": {"body": "hi"}}


def test_a_newer_writer_with_unknown_fields_never_crashes_a_reader() -> None:
    newer = {**BASE, "schema_version": SCHEMA_VERSION + 1, "profile_name": "A",
             "sentiment": {"score": 0.9}, "type": "message.hologram"}
    ev = InboundEvent.from_bytes(orjson.dumps(newer))
    assert ev.type == "message.hologram"
    assert ev.profile_name == "A"
    assert ev.extra == {"sentiment": {"score": 0.9}}
    # and it round-trips, keeping what it did not understand
    again = orjson.loads(ev.to_bytes())
    assert again["sentiment"] == {"score": 0.9}
    assert again["profile_name"] == "A"
