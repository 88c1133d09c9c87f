"""Each read model against the real projector, broker and database: records produced
with the schemas' dataclasses, tables checked row by row."""

from __future__ import annotations

import orjson

from schemas import headers as h
from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.dlq import DlqDecision
from schemas.domain import DomainEvent
from schemas.outbound import OutboundMessage
from schemas.recovery import RecoveryUpdate
from tests.support import kafka as tk
from tests.support import projection_data as pd
from tests.support.system import System


async def _fetch(system: System, sql: str) -> list[tuple[object, ...]]:
    conn = await system.db()
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_interactions_and_webhook_logs(system: System) -> None:
    u = "250788200001"
    list_reply = pd.inbound(1, u, type_="message.interactive.list_reply", payload={
        "from": u, "id": "wamid.L1", "type": "interactive",
        "context": {"from": "15550783881", "id": "wamid.MENU1"},
        "interactive": {"type": "list_reply",
                        "list_reply": {"id": "rides", "title": "Rides", "description": "Go"}}})
    button = pd.inbound(2, u, type_="message.button", payload={
        "from": u, "id": "wamid.B1", "type": "button", "context": {"id": "wamid.TPL"},
        "button": {"payload": "yes", "text": "Yes"}})
    text = pd.inbound(3, u)
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND),
                     [(u, list_reply), (u, button), (u, text)])
    await tk.produce(system.bootstrap, system.topic(topics.RAW),
                     [(b"corr-A", b'{"object":"whatsapp_business_account","entry":[]}'),
                      (b"corr-A", b'{"dup": true}'),  # a redelivered key keeps the first body
                      (b"corr-B", b"not json")],
                     headers=[(h.RECEIVED_AT, b"2026-01-05T10:00:00+00:00")])
    system.start_projector()
    rows = await system.wait_rows(
        "SELECT event_id, interaction_type, reply_id, reply_title, reply_description, "
        "context_message_id, context_from FROM wa_interactions ORDER BY event_id", 2)
    assert [tuple(r) for r in rows] == [
        (list_reply.event_id, "list_reply", "rides", "Rides", "Go", "wamid.MENU1", "15550783881"),
        (button.event_id, "button", "yes", "Yes", None, "wamid.TPL", None)]
    logs = await system.wait_rows(
        "SELECT correlation_id, body, payload IS NULL, headers->>'wastream.received_at' "
        "FROM webhook_logs ORDER BY correlation_id", 2)
    assert [tuple(r) for r in logs] == [
        ("corr-A", b'{"object":"whatsapp_business_account","entry":[]}', False,
         "2026-01-05T10:00:00+00:00"),
        ("corr-B", b"not json", True, "2026-01-05T10:00:00+00:00")]


async def test_agent_sessions(system: System) -> None:
    a, b = "250788300001", "250788300002"
    recs = [
        pd.state(a, 1, "menu", "main"),
        pd.state(a, 2, "general_broker", "ask_need", previous=("menu", "main")),
        pd.state(a, 3, "general_broker", "confirm", previous=("general_broker", "ask_need"),
                 data={"category": "plumber", "location": "Kicukiro"}),
        pd.state(b, 1, "farmer_market", "crop", previous=("menu", "main"), data={"crop": "beans"}),
        pd.state(b, 2, "menu", "main", previous=("farmer_market", "crop")),
        pd.state(a, 4, "rides", "vehicle", previous=("menu", "main")),  # not an agent flow
    ]
    await pd.produce(system.bootstrap, system.topic(topics.STATE), [(s.wa_id, s) for s in recs])
    system.start_projector()
    await system.wait_rows("SELECT 1 FROM chat_state", 2)
    rows = await system.wait_rows(
        "SELECT wa_id, flow, status, step, data, started_seq, seq FROM agent_sessions "
        "WHERE seq = CASE wa_id WHEN $1 THEN 3 ELSE 2 END ORDER BY wa_id", 2, 30, a)
    assert [(r[0], r[1], r[2], r[3], orjson.loads(r[4]), r[5], r[6]) for r in rows] == [
        (a, "general_broker", "active", "confirm", {"category": "plumber", "location": "Kicukiro"},
         2, 3),
        (b, "farmer_market", "ended", "crop", {"crop": "beans"}, 1, 2)]


async def test_outbound_status_only_moves_up_in_any_order(system: System) -> None:
    u = "250788400001"
    msgs = [OutboundMessage(outbound_id=f"wamid.IN{i}:0", wa_id=u, phone_number_id=pd.PNID,
                            body={"messaging_product": "whatsapp", "to": u, "type": "text",
                                  "text": {"body": "hello"}}, in_reply_to=f"wamid.IN{i}",
                            flow="menu", created_at="2026-01-05T10:00:00+00:00")
            for i in range(4)]
    t = "2026-01-05T10:00:0{}+00:00"
    deliveries = [
        # message 0: statuses arrive before the message itself, webhooks name only the wamid
        DeliveryUpdate(wa_id=u, status="read", wamid="wamid.OUT0", at=t.format(5),
                       source="webhook"),
        DeliveryUpdate(wa_id=u, status="accepted", outbound_id="wamid.IN0:0", wamid="wamid.OUT0",
                       at=t.format(1)),
        DeliveryUpdate(wa_id=u, status="delivered", wamid="wamid.OUT0", at=t.format(3),
                       source="webhook"),
        # message 1: sent after delivered (same timestamp) must not go back
        DeliveryUpdate(wa_id=u, status="accepted", outbound_id="wamid.IN1:0", wamid="wamid.OUT1",
                       at=t.format(1)),
        DeliveryUpdate(wa_id=u, status="delivered", wamid="wamid.OUT1", at=t.format(2),
                       source="webhook"),
        DeliveryUpdate(wa_id=u, status="sent", wamid="wamid.OUT1", at=t.format(2),
                       source="webhook"),
        # message 2: failed is terminal, a later read does not undo it
        DeliveryUpdate(wa_id=u, status="failed", outbound_id="wamid.IN2:0", at=t.format(2),
                       error={"code": 131047, "title": "Re-engagement message"}),
        DeliveryUpdate(wa_id=u, status="read", outbound_id="wamid.IN2:0", at=t.format(4)),
    ]
    # Deliveries first (different topic): the projector sees them before or after the
    # messages depending on fetch timing; the result must not depend on it.
    await pd.produce(system.bootstrap, system.topic(topics.DELIVERY), [(u, d) for d in deliveries])
    system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_delivery_events", len(deliveries))
    await pd.produce(system.bootstrap, system.topic(topics.OUTBOUND), [(u, m) for m in msgs])
    rows = await system.wait_rows(
        "SELECT outbound_id, wamid, status, error_code, body->>'type', "
        "delivered_at IS NOT NULL, read_at IS NOT NULL "
        "FROM wa_outbound_messages WHERE body IS NOT NULL ORDER BY outbound_id", 4)
    assert [tuple(r) for r in rows] == [
        ("wamid.IN0:0", "wamid.OUT0", "read", None, "text", True, True),
        ("wamid.IN1:0", "wamid.OUT1", "delivered", None, "text", True, False),
        ("wamid.IN2:0", None, "failed", "131047", "text", False, True),
        ("wamid.IN3:0", None, None, None, "text", False, False)]


async def test_dead_letters_and_decisions(system: System) -> None:
    u = "250788500001"

    def hdrs(origin_offset: int) -> list[tuple[str, bytes]]:
        return h.to_headers({
            h.DLQ_ID: f"{system.topic(topics.INBOUND)}:0:{origin_offset}",
            h.ORIGINAL_TOPIC: system.topic(topics.INBOUND), h.ORIGINAL_PARTITION: 0,
            h.ORIGINAL_OFFSET: origin_offset, h.ATTEMPT: 3, h.ERROR_KIND: "permanent",
            h.ERROR_CLASS: "streams.failure.errors.BadInput", h.ERROR_MESSAGE: "bad input",
            h.FAILED_AT: "2026-01-05T10:00:00+00:00"})

    dlq = system.topic(topics.DLQ)
    await tk.produce(system.bootstrap, dlq, [(u.encode(), b'{"event_id": "e1"}')], headers=hdrs(7))
    await tk.produce(system.bootstrap, dlq, [(u.encode(), b"\xff\x00garbage")], headers=hdrs(8))
    await tk.produce(system.bootstrap, dlq, [(u.encode(), b'{"event_id": "e1"}')], headers=hdrs(7))
    ops = [DlqDecision(dlq_id=f"{system.topic(topics.INBOUND)}:0:7", action="redrive", by="op1"),
           DlqDecision(dlq_id=f"{system.topic(topics.INBOUND)}:0:7", action="discard", by="op2"),
           DlqDecision(dlq_id=f"{system.topic(topics.INBOUND)}:0:99", action="discard", by="op3",
                       reason="unknown id: kept for when it arrives"),
           # a redrive's mark (streams.dlq.ops) is not a decision: 8 stays open
           DlqDecision(dlq_id=f"{system.topic(topics.INBOUND)}:0:8", action="redriven", by="op4")]
    await pd.produce(system.bootstrap, system.topic(topics.DLQ_OPS), [(o.dlq_id, o) for o in ops])
    system.start_projector()
    rows = await system.wait_rows(
        "SELECT message_id, from_number, payload, error_message, retry_count, max_retries, "
        "processed, status, decided_by, error_class, original_offset, record_value "
        "FROM wa_dead_letter_queue ORDER BY original_offset", 2)
    await system.wait_rows("SELECT 1 FROM wa_dlq_decisions", 2)
    rows = await system.wait_rows(
        "SELECT message_id, from_number, payload, error_message, retry_count, max_retries, "
        "processed, status, decided_by, error_class, original_offset, record_value "
        "FROM wa_dead_letter_queue ORDER BY original_offset", 2)
    got = [(*r[:2], orjson.loads(r[2]), *r[3:]) for r in rows]
    inbound = system.topic(topics.INBOUND)
    assert got == [
        (f"{inbound}:0:7", u, {"event_id": "e1"}, "bad input", 3, 3, True, "redrive", "op1",
         "streams.failure.errors.BadInput", 7, b'{"event_id": "e1"}'),
        (f"{inbound}:0:8", u, {"raw_base64": "/wBnYXJiYWdl"}, "bad input", 3, 3, False, "open",
         None, "streams.failure.errors.BadInput", 8, b"\xff\x00garbage")]


async def test_recovery_and_domain_events(system: System) -> None:
    u = "250788600001"
    rec = [RecoveryUpdate(recovery_id="r1", conversation_id=u, workflow_type="rides",
                          recovery_action="reset_to_menu", status=s,
                          details={"step": s, s: True}, at=f"2026-01-05T10:00:0{i}+00:00")
           for i, s in enumerate(["pending", "in_progress", "completed"])]
    rec.append(RecoveryUpdate(recovery_id="r1", conversation_id=u, workflow_type="rides",
                              recovery_action="reset_to_menu", status="pending",
                              at="2026-01-05T10:00:09+00:00"))  # a late duplicate
    # pending alone first (its own batch), then the rest: details merge across batches
    await pd.produce(system.bootstrap, system.topic(topics.RECOVERY), [(u, rec[0])])
    system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_workflow_recovery", 1)
    await pd.produce(system.bootstrap, system.topic(topics.RECOVERY), [(u, r) for r in rec[1:]])
    dom = [DomainEvent(event_id=f"wamid.X{i}:RideRequested", name="RideRequested", wa_id=u,
                       data={"vehicle": "moto"}, caused_by=f"wamid.X{i}",
                       at="2026-01-05T10:00:00+00:00") for i in range(3)]
    await pd.produce(system.bootstrap, system.topic(topics.DOMAIN),
                     [(u, d) for d in dom + dom[:1]])
    await system.wait_rows("SELECT 1 FROM wa_workflow_recovery WHERE status = 'completed'", 1)
    await system.wait_rows("SELECT 1 FROM wa_domain_events", 3)
    rows = await _fetch(system, "SELECT recovery_id, conversation_id, workflow_type, "
                                "recovery_action, status, details FROM wa_workflow_recovery")
    assert [(*r[:5], orjson.loads(r[5])) for r in rows] == [  # type: ignore[arg-type]
        ("r1", u, "rides", "reset_to_menu", "completed",
         {"step": "completed", "pending": True, "in_progress": True, "completed": True})]
    assert await _fetch(system, "SELECT event_id, name, caused_by FROM wa_domain_events "
                                "ORDER BY event_id") == [
        (d.event_id, "RideRequested", d.caused_by) for d in dom]
