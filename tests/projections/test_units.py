"""Pure parts of the projections: no broker, no database."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from projections import (
    agent_sessions,
    dead_letters,
    interactions,
    outbound,
    retries,
    webhook_logs,
)
from projections.base import Msg, ts
from projections.registry import all_projections
from projections.replay import Plan, Progress, ReplayError, parse_offsets, shadow_name
from schemas import headers as h
from schemas import topics
from schemas.delivery import DeliveryUpdate
from tests.support import projection_data as pd
from wastream.config import Settings


def _msg(value: bytes | None, key: bytes | None = b"k", headers: tuple = (), topic: str = "t",
         offset: int = 5) -> Msg:
    return Msg(topic, 1, offset, key, value, headers, 1767607200000)


def test_ts_parses_iso_epoch_and_refuses_garbage() -> None:
    assert ts("2026-01-05T10:00:00Z") == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert ts("2026-01-05T10:00:00") == datetime(2026, 1, 5, 10, tzinfo=UTC)  # naive is UTC
    assert ts(1767607200) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert ts("yesterday") is None
    assert ts("") is None
    assert ts(None) is None


@pytest.mark.parametrize(("payload", "expected"), [
    ({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {
        "id": "rides", "title": "Rides", "description": "Go"}}},
     ("list_reply", "rides", "Rides", "Go")),
    ({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {
        "id": "yes", "title": "Yes"}}}, ("button_reply", "yes", "Yes", None)),
    ({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {
        "name": "flow", "response_json": "{}"}}}, ("nfm_reply", "flow", None, "{}")),
    ({"type": "button", "button": {"payload": "p", "text": "T"}}, ("button", "p", "T", None)),
    ({"type": "interactive", "interactive": {"type": "brand_new"}},
     ("brand_new", None, None, None)),
    ({"type": "text", "text": {"body": "hi"}}, None),
    ({"type": "interactive", "interactive": "not an object"}, None),
])
def test_interaction_shapes(payload: dict, expected: tuple | None) -> None:
    ev = pd.inbound(1, "250788000001", payload=payload)
    assert interactions.interaction(ev) == expected


def test_agent_session_rows() -> None:
    flows = frozenset({"general_broker"})
    u = "250788000001"
    enter = pd.state(u, 2, "general_broker", "ask", previous=("menu", "main"))
    stay = pd.state(u, 3, "general_broker", "confirm", previous=("general_broker", "ask"),
                    data={"category": "plumber"})
    leave = pd.state(u, 4, "menu", "main", previous=("general_broker", "confirm"))
    other = pd.state(u, 5, "rides", "vehicle", previous=("menu", "main"))
    r_enter = agent_sessions.session_row(enter, flows)
    r_stay = agent_sessions.session_row(stay, flows)
    r_leave = agent_sessions.session_row(leave, flows)
    assert r_enter is not None
    assert r_stay is not None
    assert r_leave is not None
    assert (r_enter[2], r_enter[6]) == ("active", 2)  # a new session starts at seq 2
    assert (r_stay[2], r_stay[6]) == ("active", None)  # continuing: keeps the stored start
    assert orjson.loads(r_stay[4]) == {"category": "plumber"}
    assert (r_leave[1], r_leave[2], r_leave[10] is not None) == ("general_broker", "ended", True)
    assert agent_sessions.session_row(other, flows) is None


def test_agent_flows_and_retries_come_from_the_settings() -> None:
    def built(env: dict[str, str]) -> dict[str, Any]:
        return {p.name: p for p in all_projections(Settings.from_env(env))}

    got = built({"WASTREAM_AGENT_FLOWS": "a, b,", "WASTREAM_RETRY_DELAYS": "1s,2s,3s,4s"})
    assert got["agent_sessions"].flows == frozenset({"a", "b"})
    assert got["dead_letters"].max_retries == 4
    assert got["retries"].topics == ("wa.retry.1s", "wa.retry.2s", "wa.retry.3s", "wa.retry.4s")
    default = built({})
    assert default["agent_sessions"].flows == frozenset({"general_broker", "farmer_market"})
    assert default["dead_letters"].max_retries == 3
    assert default["retries"].topics == ("wa.retry.1m", "wa.retry.2m", "wa.retry.4m")


def test_delivery_row_ranks_and_error_code() -> None:
    r = outbound.delivery_row(DeliveryUpdate(wa_id="u", status="failed", wamid="w",
                                             error={"code": 131047}))
    assert (r[0], r[1], r[2], r[4], r[8]) == ("", "w", "failed", 5, "131047")
    r = outbound.delivery_row(DeliveryUpdate(wa_id="u", status="someday", outbound_id="o"))
    assert (r[0], r[1], r[4], r[8]) == ("o", "", -1, None)  # unknown status ranks lowest


def test_dlq_row_maps_failure_headers_and_keeps_bytes() -> None:
    hdrs = tuple(h.to_headers({h.DLQ_ID: "x:0:7", h.ERROR_MESSAGE: "boom", h.ATTEMPT: 2,
                               h.ORIGINAL_OFFSET: 7, h.FAILED_AT: "2026-01-05T10:00:00+00:00"}))
    row = dict(zip(dead_letters.DLQ_COLUMNS, dead_letters.dlq_row(_msg(b"\x00\xff", b"u", hdrs), 3),
                   strict=True))
    assert row["message_id"] == "x:0:7"
    assert row["from_number"] == "u"
    assert orjson.loads(row["payload"]) == {"raw_base64": base64.b64encode(b"\x00\xff").decode()}
    assert (row["retry_count"], row["max_retries"], row["original_offset"]) == (2, 3, 7)
    assert row["record_value"] == b"\x00\xff"
    assert row["failed_at"] == datetime(2026, 1, 5, 10, tzinfo=UTC)
    # without a DLQ id header the record's own position identifies it
    bare = dead_letters.dlq_row(_msg(b"{}", topic="wa.dlq", offset=9), 3)
    assert bare[0] == "wa.dlq:1:9"


def test_webhook_log_row_needs_a_correlation_id() -> None:
    assert webhook_logs.row(_msg(b"{}", key=None)) is None
    r = webhook_logs.row(_msg(b"x", key=None, headers=((h.CORRELATION_ID, b"c1"),)))
    assert r is not None
    assert (r[0], r[2], r[3]) == ("c1", b"x", None)


def test_parse_offsets_accepts_logical_and_broker_names() -> None:
    s = Settings.from_env({"WASTREAM_TOPIC_PREFIX": "p."})
    got = parse_offsets(["wa.inbound:0:5", "p.wa.inbound:1:7"], s, (topics.INBOUND,))
    assert got == {(topics.INBOUND, 0): 5, (topics.INBOUND, 1): 7}
    with pytest.raises(ReplayError):
        parse_offsets(["wa.state:0:1"], s, (topics.INBOUND,))
    with pytest.raises(ReplayError):
        parse_offsets(["wa.inbound:x:1"], s, (topics.INBOUND,))


def test_plan_totals_and_describes() -> None:
    plan = Plan("events", "live", shadow_name("live", "events"),
                start={("wa.inbound", 0): 2, ("wa.inbound", 1): 0},
                end={("wa.inbound", 0): 10, ("wa.inbound", 1): 5})
    assert plan.total == 13
    assert "wa.inbound[0]: offsets 2 .. 10 (8 records)" in plan.describe()
    assert len(shadow_name("x" * 63, "events")) == 63


def test_progress_reports_rate_and_eta() -> None:
    import io

    out = io.StringIO()
    p = Progress(100, out)
    p.add(50, force=True)
    assert "50/100" in out.getvalue()
    assert "rec/s" in out.getvalue()
    assert "ETA" in out.getvalue()


def test_only_errors_about_the_data_are_set_aside() -> None:
    import asyncpg

    from projections.store import about_the_data

    assert about_the_data(asyncpg.exceptions.UntranslatableCharacterError("\\u0000"))  # 22P05
    assert about_the_data(asyncpg.exceptions.CheckViolationError("status"))  # 23514
    assert about_the_data(KeyError("bug in a projection"))
    assert not about_the_data(asyncpg.exceptions.DiskFullError("full"))  # 53100: wait
    assert not about_the_data(asyncpg.exceptions.ReadOnlySQLTransactionError("failover"))
    assert not about_the_data(asyncpg.exceptions.UndefinedTableError("not migrated"))


def test_retry_row_maps_the_routers_headers() -> None:
    """One wa_retries row per tier record: the router's head token identifies it, the
    original event's id and correlation id come from the record, the error is cut short
    and its trace (which may quote the record) is not kept."""
    ev = pd.inbound(3, "250780000003")
    head = "p.wa.inbound:2:41@1@1767607260000"
    hdrs = (*h.to_headers({h.ORIGINAL_TOPIC: "p.wa.inbound", h.ORIGINAL_PARTITION: 2,
                           h.ORIGINAL_OFFSET: 41, h.ATTEMPT: 1, h.DUE_AT: 1767607260000,
                           h.ERROR_CLASS: "streams.failure.errors.InjectedTransient",
                           h.ERROR_KIND: "transient", h.ERROR_MESSAGE: "x" * 5000,
                           h.ERROR_TRACE: "Traceback ... 250780000003", h.HEAD: head}),
            (h.CORRELATION_ID, b"corr-3"))
    msg = _msg(ev.to_bytes(), ev.wa_id.encode(), hdrs, topic="wa.retry.1m", offset=12)
    row = dict(zip(retries.COLUMNS, retries.retry_row(msg, {"wa.retry.1m": 60}), strict=True))
    assert row["retry_id"] == head
    assert (row["wa_id"], row["event_id"], row["outbound_id"]) == (ev.wa_id, ev.event_id, None)
    assert (row["original_topic"], row["original_partition"], row["original_offset"]) == (
        "p.wa.inbound", 2, 41)
    assert (row["tier"], row["delay_s"], row["attempt"]) == ("wa.retry.1m", 60, 1)
    assert row["error_class"] == "streams.failure.errors.InjectedTransient"
    assert row["error_kind"] == "transient"
    assert row["error"] == "x" * retries.ERROR_CHARS
    assert "250780000003" not in "".join(str(v) for v in row.values() if v != ev.wa_id)
    assert row["correlation_id"] == "corr-3"
    assert row["at"] == datetime(2026, 1, 5, 10, tzinfo=UTC)  # the tier record's timestamp
    assert row["due_at"] == datetime(2026, 1, 5, 10, 1, tzinfo=UTC)
    assert (row["kafka_partition"], row["kafka_offset"]) == (1, 12)


def test_retry_row_of_a_reply_and_of_a_bare_record() -> None:
    """A reply the sender retries names its own id and the event it answers; a record
    without the router's headers still gets a row, identified by its place in the tier."""
    reply = orjson.dumps({"outbound_id": "e9:1", "wa_id": "u9", "phone_number_id": "p",
                          "body": {}, "in_reply_to": "e9", "correlation_id": "c9"})
    row = dict(zip(retries.COLUMNS, retries.retry_row(
        _msg(reply, b"u9", tuple(h.to_headers({h.ATTEMPT: 2})), topic="wa.retry.2m"),
        {"wa.retry.2m": 120}), strict=True))
    assert (row["wa_id"], row["event_id"], row["outbound_id"]) == ("u9", "e9", "e9:1")
    assert (row["correlation_id"], row["attempt"], row["due_at"]) == ("c9", 2, None)
    bare = dict(zip(retries.COLUMNS, retries.retry_row(
        _msg(b"\x00\xff", b"u", (), topic="wa.retry.2m", offset=9), {}), strict=True))
    assert (bare["retry_id"], bare["wa_id"], bare["event_id"]) == ("wa.retry.2m:1:9", "u", None)
    assert (bare["attempt"], bare["delay_s"], bare["error"]) == (0, None, "")
