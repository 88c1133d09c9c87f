"""Failure handling inside the real ``wastream worker`` (the conversation engine): a
poison message dead-letters, the conversation recovers (apology + menu) before the
user's next message runs, handled messages get read receipts, and the sender (dry run)
reports each reply."""

from __future__ import annotations

import aiohttp
import orjson

from schemas import headers as h
from schemas.outbound import OutboundMessage
from tests.support import kafka as tk
from tests.support.failure import event, inbound_records, wait_until
from tests.support.system import System, free_port

USER = "250788200001"


async def test_poison_in_a_conversation_recovers_it_before_the_next_message(
        system: System) -> None:
    port = free_port()
    system.env_overrides.update({
        "WASTREAM_FAULTS": orjson.dumps([{"match": "POISON", "kind": "permanent"}]).decode(),
        "WASTREAM_MARK_READ": "1", "WASTREAM_HEALTH_PORT": str(port)})
    worker = system.start_worker()
    events = [event(USER, 0, "hi"), event(USER, 1, "POISON"), event(USER, 2, "hi")]
    await tk.produce(system.bootstrap, system.topic("wa.inbound"), inbound_records(events))

    dlq = await system.read("wa.dlq", min_count=1, timeout_s=90)
    assert dlq, worker.tail()
    assert orjson.loads(dlq[0].value or b"")["event_id"] == f"wamid.{USER}.1"
    assert dlq[0].headers[h.ERROR_CLASS] == b"streams.failure.errors.InjectedPermanent"

    recovery = await system.read("wa.recovery", min_count=3, timeout_s=60)
    statuses = [r.json()["status"] for r in recovery]
    assert statuses == ["pending", "in_progress", "completed"], worker.tail()
    assert len({r.json()["recovery_id"] for r in recovery}) == 1

    out = await system.read("wa.outbound", min_count=6, timeout_s=60, settle_s=2)
    msgs = [OutboundMessage.from_bytes(r.value or b"") for r in out]
    replies = [m for m in msgs if m.flow != "wastream.read"]
    receipts = [m.outbound_id for m in msgs if m.flow == "wastream.read"]
    assert receipts == [f"wamid.{USER}.0:read", f"wamid.{USER}.2:read"]
    order = [m.in_reply_to for m in replies]
    rid = recovery[0].json()["recovery_id"]
    # hi → menu; the poison: nothing; the recovery: apology + menu; then the next hi
    assert order.index(rid) < order.index(f"wamid.{USER}.2")
    assert order[0] == f"wamid.{USER}.0"
    assert f"wamid.{USER}.1" not in order
    apology = next(m for m in replies if m.in_reply_to == rid)
    assert "Sorry" in orjson.dumps(apology.body).decode()

    deliveries = await system.read("wa.delivery", min_count=len(replies), timeout_s=60,
                                   settle_s=2)
    sent = {d.json()["outbound_id"] for d in deliveries if d.json()["source"] == "dry_run"}
    assert sent == {m.outbound_id for m in replies}

    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as r:
        metrics = await r.text()
    assert 'wastream_failure_routed_total{outcome="dlq",router="inbound"} 1.0' in metrics
    assert 'wastream_breaker_state{breaker="graph"} 0.0' in metrics


async def test_real_replies_pass_the_stand_in_graph_api_and_are_delivered_once(
        system: System) -> None:
    """The engine's real reply bodies, sent by the real worker's sender, match Meta's
    documented shape (the stand-in rejects anything else) and each is accepted once."""
    from standins.graph import GraphStub

    stub = await GraphStub().start()
    try:
        stub.fail(2, status=500)  # a flaky start: retried through the tiers
        system.env_overrides.update({"WHATSAPP_GRAPH_URL": stub.url,
                                     "WHATSAPP_ACCESS_TOKEN": stub.token,
                                     "WASTREAM_MARK_READ": "1"})
        worker = system.start_worker()
        users = [f"25078830000{i}" for i in range(3)]
        events = [event(u, n, text) for u in users for n, text in enumerate(["hi", "1"])]
        await tk.produce(system.bootstrap, system.topic("wa.inbound"), inbound_records(events))
        out = await system.read("wa.outbound", min_count=8, timeout_s=60, settle_s=3)
        # retried records come back through wa.outbound too (with a head token): by id
        replies = list({m.outbound_id: m for m in (OutboundMessage.from_bytes(r.value or b"")
                                                    for r in out)}.values())
        n_msgs = len([m for m in replies if m.flow != "wastream.read"])
        deliveries = await system.read("wa.delivery", min_count=n_msgs, timeout_s=90,
                                       settle_s=3)
        assert await wait_until(lambda: len(stub.accepted) >= len(replies), 30)
        assert [s.answer for s in stub.seen].count(500) == 2
        rejected = [s.body for s in stub.seen if s.answer == 400]
        assert rejected == [], rejected
        read_ids = {m.body["message_id"] for m in replies if m.flow == "wastream.read"}
        assert read_ids == {e.event_id for e in events}
        accepted_reads = [s.body["message_id"] for s in stub.accepted if "status" in s.body]
        assert sorted(accepted_reads) == sorted(read_ids)
        sent = [s.body for s in stub.accepted if "status" not in s.body]
        assert len(sent) == len(replies) - len(read_ids), worker.tail()
        acc = {d.json()["outbound_id"] for d in deliveries if d.json()["status"] == "accepted"}
        assert acc == {m.outbound_id for m in replies if m.flow != "wastream.read"}
        assert all(d.json()["wamid"] for d in deliveries if d.json()["status"] == "accepted")
    finally:
        await stub.stop()
