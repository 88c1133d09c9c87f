"""Analytics views against a small scenario computed by hand, and the read-only role's
access: analytics views yes, any table with raw phone numbers no."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import Any

import asyncpg
import pytest

from schemas import headers as h
from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.dlq import DlqDecision
from schemas.domain import DomainEvent
from schemas.outbound import OutboundMessage
from tests.support import kafka as tk
from tests.support import projection_data as pd
from tests.support.system import System

KEY = "analytics-test-key"
U1, U2, U3 = "250788700001", "250788700002", "250788700003"
D1, D2 = date(2026, 1, 5), date(2026, 1, 6)


def _at(day: date, hms: str) -> str:
    return f"{day.isoformat()}T{hms}+00:00"


def hashed(wa_id: str) -> str:
    return hmac.new(KEY.encode(), wa_id.encode(), hashlib.sha256).hexdigest()


async def _scenario(system: System) -> None:
    b = system.bootstrap
    ev = [
        pd.inbound(1, U1, event_id="A1", received_at=_at(D1, "10:00:00")),
        pd.inbound(2, U1, event_id="A2", received_at=_at(D1, "10:01:00")),
        pd.inbound(3, U2, event_id="A3", type_="message.interactive.list_reply",
                   received_at=_at(D1, "10:02:00")),
        pd.inbound(4, U1, event_id="A4", type_="status.delivered", received_at=_at(D1, "10:03:00")),
        pd.inbound(5, U1, event_id="A5", received_at=_at(D2, "09:00:00")),
    ]
    other = pd.inbound(6, U3, event_id="A6", received_at=_at(D2, "09:30:00"))
    other = type(other)(**{**{f: getattr(other, f) for f in other.__dataclass_fields__},
                           "phone_number_id": "999"})
    await pd.produce(b, system.topic(topics.INBOUND), [(e.wa_id, e) for e in [*ev, other]])

    def out(oid: str, u: str, reply_to: str, at: str, flow: str) -> OutboundMessage:
        return OutboundMessage(outbound_id=oid, wa_id=u, phone_number_id=pd.PNID,
                               body={"type": "text"}, in_reply_to=reply_to, flow=flow,
                               created_at=at)
    outs = [out("o1", U1, "A1", _at(D1, "10:00:02"), "menu"),
            out("o1b", U1, "A1", _at(D1, "10:00:05"), "menu"),
            out("o2", U1, "A2", _at(D1, "10:01:01"), "rides"),
            out("o3", U2, "A3", _at(D1, "10:02:04"), "rides"),
            out("o4", U1, "A5", _at(D2, "09:00:00.500"), "menu")]
    await pd.produce(b, system.topic(topics.OUTBOUND), [(o.wa_id, o) for o in outs])

    def du(oid: str, status: str, hms: str, day: date = D1,
           code: int | None = None) -> DeliveryUpdate:
        return DeliveryUpdate(wa_id=U1, status=status, outbound_id=oid, at=_at(day, hms),
                              error={"code": code} if code else None)
    dels = [du("o1", s, "10:00:03") for s in ("accepted", "sent", "delivered", "read")]
    dels += [du("o1b", s, "10:00:06") for s in ("accepted", "sent", "delivered")]
    dels += [du("o2", "failed", "10:01:02", code=131047), du("o3", "sent", "10:02:05"),
             du("o4", "failed", "09:00:01", D2, code=130429)]
    await pd.produce(b, system.topic(topics.DELIVERY), [(d.wa_id, d) for d in dels])

    st = [
        pd.state(U1, 1, "menu", "main", at=_at(D1, "10:00:00")),
        pd.state(U1, 2, "rides", "vehicle", at=_at(D1, "10:00:10")),
        pd.state(U1, 3, "rides", "location", at=_at(D1, "10:00:20")),
        pd.state(U1, 4, "rides", "pick", at=_at(D1, "10:00:30")),
        pd.state(U1, 5, "menu", "main", at=_at(D1, "10:00:40")),
        pd.state(U2, 1, "menu", "main", at=_at(D1, "10:02:00")),
        pd.state(U2, 2, "rides", "vehicle", at=_at(D1, "10:02:10")),
        pd.state(U2, 3, "expired", "idle", at=_at(D1, "10:40:00")),
        pd.state(U3, 1, "menu", "main", at=_at(D1, "11:00:00")),
        pd.state(U3, 2, "rides", "vehicle", at=_at(D1, "11:00:10")),
        pd.state(U3, 3, "rides", "location", at=_at(D1, "11:00:20")),
        pd.state(U3, 4, "menu", "main", at=_at(D1, "11:00:30")),
        pd.state(U3, 5, "schedule", "pickup", at=_at(D1, "11:01:00")),
    ]
    await pd.produce(b, system.topic(topics.STATE), [(s.wa_id, s) for s in st])
    dom = DomainEvent(event_id="A2:RideRequested", name="RideRequested", wa_id=U1,
                      at=_at(D1, "10:00:35"))
    await pd.produce(b, system.topic(topics.DOMAIN), [(U1, dom)])

    for i, (cls, kind) in enumerate([("A", "permanent"), ("A", "permanent"), ("B", "transient")]):
        await tk.produce(b, system.topic(topics.DLQ), [(U1.encode(), b"{}")], headers=h.to_headers({
            h.DLQ_ID: f"d{i}", h.ERROR_CLASS: cls, h.ERROR_KIND: kind,
            h.FAILED_AT: _at(D1, f"12:00:0{i}")}))
    await pd.produce(b, system.topic(topics.DLQ_OPS),
                     [("d0", DlqDecision(dlq_id="d0", action="discard", by="op"))])


async def _q(conn: asyncpg.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch(sql)]


async def test_analytics_figures_match_a_hand_computed_scenario(system: System) -> None:
    system.env_overrides["WASTREAM_ANALYTICS_KEY"] = KEY
    system.migrate()  # re-run: stores the key
    await _scenario(system)
    system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_dlq_decisions", 1)
    await system.wait_rows("SELECT 1 FROM wa_domain_events", 1)
    await system.wait_rows("SELECT 1 FROM wa_state_transitions", 13)
    await system.wait_rows("SELECT 1 FROM wa_delivery_events", 10)
    await system.wait_rows("SELECT 1 FROM wa_outbound_messages WHERE body IS NOT NULL", 5)
    await system.wait_rows("SELECT 1 FROM wa_events", 6)
    conn = await system.db()
    try:
        assert await _q(conn, "SELECT * FROM analytics_daily_events ORDER BY 1, 2, 3") == [
            (D1, "message.interactive.list_reply", pd.PNID, 1), (D1, "message.text", pd.PNID, 2),
            (D1, "status.delivered", pd.PNID, 1),
            (D2, "message.text", pd.PNID, 1), (D2, "message.text", "999", 1)]
        assert await _q(conn, "SELECT * FROM analytics_daily_active_users ORDER BY 1, 2") == [
            (D1, pd.PNID, 2), (D2, pd.PNID, 1), (D2, "999", 1)]
        activity = await _q(conn, "SELECT day, user_hash, messages "
                                  "FROM analytics_user_activity")
        assert sorted(activity) == sorted([(D1, hashed(U1), 2), (D1, hashed(U2), 1),
                                           (D2, hashed(U1), 1), (D2, hashed(U3), 1)])
        lat = await _q(conn, "SELECT day, workflow, replies, p50_ms, p95_ms, p99_ms "
                             "FROM analytics_response_latency ORDER BY 1, 2")
        assert [(d, w, n, round(a), round(b), round(c)) for d, w, n, a, b, c in lat] == [
            (D1, "menu", 1, 2000, 2000, 2000), (D1, "rides", 2, 2500, 3850, 3970),
            (D2, "menu", 1, 500, 500, 500)]
        assert await _q(conn, "SELECT * FROM analytics_delivery_funnel ORDER BY 1") == [
            (D1, 4, 3, 2, 1, 1), (D2, 1, 0, 0, 0, 1)]
        assert await _q(conn, "SELECT * FROM analytics_delivery_failures ORDER BY 1") == [
            (D1, "131047", 1), (D2, "130429", 1)]
        funnel = await _q(conn, "SELECT flow, stage, runs FROM analytics_workflow_funnel "
                                "WHERE day = '2026-01-05' ORDER BY 1, 2")
        assert funnel == [
            ("rides", "abandoned", 1), ("rides", "completed", 1), ("rides", "expired", 1),
            ("rides", "started", 3), ("rides", "step:location", 2), ("rides", "step:pick", 1),
            ("rides", "step:vehicle", 3),
            ("schedule", "in_progress", 1), ("schedule", "started", 1),
            ("schedule", "step:pickup", 1)]
        assert await _q(conn, "SELECT * FROM analytics_dlq_inflow ORDER BY 2") == [
            (D1, "A", "permanent", 2, 1), (D1, "B", "transient", 1, 1)]
        age = await _q(conn, "SELECT error_class, open_dead_letters, oldest_age_s > 0 "
                             "FROM analytics_dlq_age ORDER BY 1")
        assert age == [("A", 1, True), ("B", 1, True)]
    finally:
        await conn.close()


async def test_analytics_role_reads_analytics_only(system: System) -> None:
    await _scenario(system)
    system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_events", 6)
    # As the owner, who may make itself a member of the role it created, to take it on.
    conn = await system.owner_db()
    await conn.execute("GRANT wastream_analytics TO CURRENT_USER")
    try:
        tables = [r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
            "AND table_type = 'BASE TABLE'", system.schema)]
        views = [r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.views WHERE table_schema = $1",
            system.schema)]
        assert {"wa_events", "webhook_logs", "chat_state", "wa_dead_letter_queue",
                "analytics_key"} <= set(tables)
        assert len(views) >= 9
        await conn.execute("SET ROLE wastream_analytics")
        for table in tables:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f'SELECT * FROM "{table}" LIMIT 1')
        dump = []
        for view in views:
            dump += [tuple(r) for r in await conn.fetch(f'SELECT * FROM "{view}"')]
        assert dump  # the analytics do have rows …
        text = repr(dump)
        for number in (U1, U2, U3):
            assert number not in text  # … and no raw phone number
    finally:
        await conn.execute("RESET ROLE")
        await conn.close()
