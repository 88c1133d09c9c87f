"""The thin path, every hop real: signed webhook → ingress → wa.inbound → Faust worker →
wa.outbound + wa.state → projector → wa_events + chat_state in PostgreSQL."""

from __future__ import annotations

import time

import orjson

from schemas.envelope import InboundEvent
from schemas.outbound import OutboundMessage
from schemas.state import StateTransition
from tests.support.system import System
from tests.support.webhooks import PHONE_NUMBER_ID, text_message_body


async def test_hi_travels_every_hop(system: System) -> None:
    system.start_ingress()
    system.start_worker()
    system.start_projector()

    wa_id = "250788123456"
    wamid = f"wamid.E2E{time.time_ns()}"
    body = text_message_body(wa_id, "hi", wamid=wamid)
    status, answer = await system.post_webhook(body, headers={"X-Request-Id": "req-e2e-1"})
    assert status == 200, answer

    # Hop 1: the raw body, verbatim, and one envelope keyed by the user.
    raw = await system.read("wa.webhooks.raw", min_count=1, timeout_s=10)
    assert [r.value for r in raw] == [body]
    inbound = await system.read("wa.inbound", min_count=1, timeout_s=10)
    assert len(inbound) == 1
    assert inbound[0].key == wa_id.encode()
    event = InboundEvent.from_bytes(inbound[0].value or b"")
    assert (event.event_id, event.type, event.wa_id) == (wamid, "message.text", wa_id)
    assert event.phone_number_id == PHONE_NUMBER_ID
    assert event.correlation_id == answer["correlation_id"]  # the ingress's own id
    assert event.payload == orjson.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]

    # Hop 2: the worker answers with the main-menu list and records the transition.
    outbound = await system.read("wa.outbound", min_count=1, timeout_s=90)
    replies = [OutboundMessage.from_bytes(r.value or b"") for r in outbound]
    assert len(replies) == 1, replies
    reply = replies[0]
    assert reply.in_reply_to == wamid
    assert reply.wa_id == wa_id
    assert outbound[0].key == wa_id.encode()
    assert reply.body["messaging_product"] == "whatsapp"
    assert reply.body["to"] == wa_id
    assert reply.body["type"] == "interactive"
    assert reply.body["interactive"]["type"] == "list"
    rows = [
        row["title"]
        for sec in reply.body["interactive"]["action"]["sections"]
        for row in sec["rows"]
    ]
    assert len(rows) >= 5

    states = await system.read("wa.state", min_count=1, timeout_s=30)
    transitions = [StateTransition.from_bytes(r.value or b"") for r in states]
    assert transitions
    assert all(t.wa_id == wa_id for t in transitions)
    assert transitions[-1].event_id == wamid

    # Hop 3: the projector writes the event and the state.
    events = await system.wait_rows("SELECT * FROM wa_events WHERE event_id = $1", 1, 60, wamid)
    assert len(events) == 1
    assert events[0]["wa_id"] == wa_id
    state_rows = await system.wait_rows("SELECT * FROM chat_state WHERE wa_id = $1", 1, 60, wa_id)
    assert len(state_rows) == 1
    assert state_rows[0]["flow"] == transitions[-1].flow
    assert state_rows[0]["step"] == transitions[-1].step
