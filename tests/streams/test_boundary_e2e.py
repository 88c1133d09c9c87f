"""The conversation agent at its failure boundary and with statuses: a poison record is
dead-lettered without stalling the partition, the conversation is recovered (apology +
menu, ``wa.recovery`` in_progress → completed), and Meta's statuses become
``wa.delivery`` updates, in the order they came (the read model keeps the highest rank:
projections/outbound.py). Real broker, real worker."""

from __future__ import annotations

import asyncio

from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.outbound import OutboundMessage
from schemas.recovery import RecoveryUpdate
from tests.support import conversations as c
from tests.support import kafka as tk

U = "250788900001"


async def test_poison_is_dead_lettered_then_recovered_and_statuses_passed_on(system) -> None:  # type: ignore[no-untyped-def]
    worker = system.start_worker()
    inbound = system.topic(topics.INBOUND)
    hi = c.text(U, "hi")
    await tk.produce(system.bootstrap, inbound, [(hi.key, hi.to_bytes())])
    assert await system.read(topics.OUTBOUND, min_count=1, timeout_s=60), worker.tail()
    go = c.pick(U, "menu:rides_schedule")
    await tk.produce(
        system.bootstrap, inbound, [(go.key, go.to_bytes()), (U.encode(), b"{not json")]
    )

    recs = await system.read(topics.RECOVERY, min_count=3, timeout_s=40)
    statuses = [RecoveryUpdate.from_bytes(r.value or b"").status for r in recs]
    assert statuses[-2:] == ["in_progress", "completed"], (statuses, worker.tail())
    dlq = await system.read(topics.DLQ, min_count=1)
    assert [r.value for r in dlq] == [b"{not json"]

    out = await system.read(topics.OUTBOUND, min_count=4, timeout_s=30)
    bodies = {}
    for r in out:
        msg = OutboundMessage.from_bytes(r.value or b"")
        bodies[msg.outbound_id] = msg.body
    texts = [c.body_text(b) for b in bodies.values()]
    assert any(t.startswith("Sorry, something went wrong") for t in texts), texts
    rec_menu = [b for i, b in bodies.items() if i.startswith("recovery:") and c.row_ids(b)]
    assert rec_menu
    assert c.row_ids(rec_menu[0])[0] == "menu:rides_drivers"

    # After the reset the user is at the menu: picking from it works.
    nxt = c.pick(U, "menu:rides_drivers")
    wamid = "wamid.OUT-STATUS-1"
    stat = [c.status(U, wamid, s) for s in ("sent", "read", "delivered")]
    await tk.produce(system.bootstrap, inbound, [(e.key, e.to_bytes()) for e in [nxt, *stat]])
    out = await system.read(topics.OUTBOUND, min_count=len(out) + 1, timeout_s=30)
    last = {OutboundMessage.from_bytes(r.value or b"").outbound_id: r for r in out}
    assert f"{nxt.event_id}:0" in last
    assert c.row_ids(last[f"{nxt.event_id}:0"].json()["body"])[0] == "vehicle:moto"

    ups: list[DeliveryUpdate] = []
    for _ in range(30):  # the sender writes its own (source != webhook) updates too
        dl = await system.read(topics.DELIVERY, min_count=1, timeout_s=10, settle_s=1)
        ups = [
            u
            for u in (DeliveryUpdate.from_bytes(r.value or b"") for r in dl)
            if u.source == "webhook"
        ]
        if len(ups) >= 3:
            break
    await asyncio.sleep(2)  # a duplicate would show up now
    dl = await system.read(topics.DELIVERY, min_count=1, timeout_s=10)
    ups = [
        u for u in (DeliveryUpdate.from_bytes(r.value or b"") for r in dl) if u.source == "webhook"
    ]
    assert [(u.status, u.wamid, u.wa_id) for u in ups] == [
        ("sent", wamid, U), ("read", wamid, U), ("delivered", wamid, U)]
