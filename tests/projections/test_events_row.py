"""The projector's fast wa_events row (one orjson decode, no InboundEvent) must be the
row of the reference path ``row(msg, decode(msg))`` for every record, odd ones included."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from projections import events
from projections.base import Msg
from tests.support import projection_data as pd


def _msg(value: bytes | None) -> Msg:
    return Msg("wa.inbound", 2, 41, b"k", value, (), 1767607299123)


def _reference(m: Msg) -> tuple[Any, ...] | None:
    ev = events.decode(m)
    return events.row(m, ev) if ev is not None else None


GOOD = pd.inbound(1, "250788000001", profile_name="Ann").to_dict()

VALUES: list[Any] = [
    GOOD,
    {**GOOD, "brand_new_field": {"x": 1}, "another": [1, 2]},  # goes to extra
    {**GOOD, "timestamp": None},
    {**GOOD, "timestamp": "1767607200"},  # a numeric string: int() accepts it
    {**GOOD, "timestamp": 1767607200.9},  # a float: int() truncates it
    {**GOOD, "timestamp": "soon"},  # not an envelope
    {**GOOD, "timestamp": 10**15},  # out of datetime's range: no meta_timestamp
    {**GOOD, "timestamp": True},
    {**GOOD, "received_at": "yesterday"},  # falls back to the Kafka timestamp
    {**GOOD, "received_at": "2026-01-05T10:00:00"},  # naive: UTC
    {**GOOD, "received_at": 1767607200},
    {**GOOD, "schema_version": "2"},
    {**GOOD, "schema_version": "x"},
    {**GOOD, "schema_version": None},
    {**GOOD, "payload": None},
    {**GOOD, "payload": []},
    {**GOOD, "payload": [["a", 1]]},  # dict() of pairs
    {**GOOD, "payload": "text"},
    {**GOOD, "payload": 5},
    {**GOOD, "field": None, "correlation_id": None, "waba_id": 7, "phone_number_id": 9},
    {**GOOD, "event_id": 123, "type": 4.5, "wa_id": False},
    {k: v for k, v in GOOD.items() if k != "event_id"},
    {k: v for k, v in GOOD.items() if k != "received_at"},
    {k: v for k, v in GOOD.items() if k not in ("correlation_id", "field", "profile_name")},
    {},
    [1, 2],
    "a string",
]


@pytest.mark.parametrize("value", VALUES)
def test_fast_row_is_the_reference_row(value: Any) -> None:
    m = _msg(orjson.dumps(value))
    assert events.fast_row(m) == _reference(m)


@pytest.mark.parametrize("raw", [None, b"", b"not json", b"{", b"\xff\xfe"])
def test_fast_row_skips_what_the_reference_skips(raw: bytes | None) -> None:
    m = _msg(raw)
    assert events.fast_row(m) is None
    assert _reference(m) is None


def test_the_cases_cover_both_outcomes() -> None:
    """Guard against a list of cases where every row is None (a test that cannot fail)."""
    rows = [events.fast_row(_msg(orjson.dumps(v))) for v in VALUES]
    assert sum(r is None for r in rows) >= 5
    assert sum(r is not None for r in rows) >= 10
