"""wa.inbound → wa_events and wa.state → chat_state with the real projector process."""

from __future__ import annotations

from schemas import topics
from tests.support import projection_data as pd
from tests.support.system import System


async def test_events_and_chat_state(system: System) -> None:
    events = [pd.inbound(i, f"2507880000{i % 3}", profile_name=f"User {i}") for i in range(10)]
    dup = pd.inbound(3, "25078800000")  # Meta redelivers: same event_id
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND),
                     [(e.wa_id, e) for e in events] + [(dup.wa_id, dup)])
    u = "250788111111"
    states = [pd.state(u, 1, "menu", "main"),
              pd.state(u, 3, "rides", "share_location", previous=("rides", "vehicle")),
              pd.state(u, 2, "rides", "vehicle", previous=("menu", "main"))]  # late, older seq
    await pd.produce(system.bootstrap, system.topic(topics.STATE), [(s.wa_id, s) for s in states])
    proj = system.start_projector()
    rows = await system.wait_rows("SELECT event_id, wa_id, type FROM wa_events", 10, 60)
    assert proj.alive(), proj.tail()
    assert sorted(r["event_id"] for r in rows) == sorted(e.event_id for e in events)
    st = await system.wait_rows("SELECT * FROM wa_state_transitions", 3, 30)
    assert len(st) == 3
    conn = await system.db()
    try:
        cs = await conn.fetch("SELECT wa_id, seq, flow, step, previous_step FROM chat_state")
        assert [tuple(r) for r in cs] == [(u, 3, "rides", "share_location", "vehicle")]
        assert await conn.fetchval("SELECT count(*) FROM wa_events") == 10
        name = await conn.fetchval("SELECT profile_name FROM wa_events WHERE event_id = $1",
                                   events[4].event_id)
        assert name == "User 4"
    finally:
        await conn.close()


async def test_real_ingress_body_lands_in_webhook_logs_and_wa_events(system: System) -> None:
    from tests.support.webhooks import text_message_body

    system.start_ingress()
    system.start_projector()
    body = text_message_body("250788999001", "hello", wamid="wamid.INGRESS1")
    status, _ = await system.post_webhook(body)
    assert status == 200
    logs = await system.wait_rows("SELECT correlation_id, body FROM webhook_logs", 1)
    assert [r["body"] for r in logs] == [body]
    ev = await system.wait_rows("SELECT event_id, type, wa_id, correlation_id FROM wa_events", 1)
    assert [tuple(r)[:3] for r in ev] == [("wamid.INGRESS1", "message.text", "250788999001")]
    assert ev[0]["correlation_id"] == logs[0]["correlation_id"]


async def test_a_record_postgres_refuses_is_isolated_recorded_and_skipped(system: System) -> None:
    u = "250788555001"
    good = [pd.inbound(i, u) for i in range(20)]
    # jsonb refuses \u0000: the whole batch fails, then only that record is set aside
    bad = pd.inbound(99, u, text="nul \u0000 inside")
    records = [(u, e) for e in good[:10]] + [(u, bad)] + [(u, e) for e in good[10:]]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), records)
    proj = system.start_projector()
    rows = await system.wait_rows("SELECT event_id FROM wa_events", 20, 60)
    assert sorted(r["event_id"] for r in rows) == sorted(e.event_id for e in good)
    errors = await system.wait_rows(
        'SELECT projection, "offset", error, record_value FROM projection_errors', 1, 30)
    assert [(r["projection"], r["offset"]) for r in errors] == [("events", 10)]
    # the database's reason is kept (its DETAIL, which may quote row contents, is not)
    assert "unsupported Unicode escape sequence" in errors[0]["error"]
    assert "SQLSTATE 22P05" in errors[0]["error"]
    assert errors[0]["record_value"] == bad.to_bytes()
    # and the projector goes on with what comes next
    later = pd.inbound(200, u)
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(u, later)])
    assert len(await system.wait_rows("SELECT 1 FROM wa_events", 21, 30)) == 21
    assert proj.alive(), proj.tail()
