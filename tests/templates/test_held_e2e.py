"""Template statuses end to end (decision 0015): the stand-in Graph API sends Meta's
template status webhooks to the real ingress; the worker's sender holds a notification
whose template is PAUSED (a ``template_unavailable`` dead letter, in ``wastream dlq
list``) and releases it, as the template, when a webhook approves it again; the
projector shows each status in ``message_templates``. And a 131047 that Meta reports
after accepting a free-form message is answered by the template, once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from schemas import topics
from tests.support.system import System
from tests.templates.test_window_e2e import (
    DAY,
    got,
    graph,
    online_and_requested,
    sent_to,
    texts,
    user,
)

STATUS = "SELECT status FROM message_templates WHERE name = $1 AND language = 'en'"


async def template_status(system: System, name: str, status: str,
                          timeout_s: float = 60) -> None:
    """Wait until ``message_templates`` shows ``name`` (en) with ``status``."""
    rows: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = await system.wait_rows(STATUS, 1, timeout_s, name)
        if rows[0]["status"] == status:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{name}: {[dict(r) for r in rows]}, not {status}")


def held_letters(system: System) -> list[dict[str, Any]]:
    out = system.cli("dlq", "list", "--json", "--error-class", "template_unavailable")
    rows: list[dict[str, Any]] = orjson.loads(out.stdout)
    return rows


async def test_a_paused_template_holds_its_notification_until_it_is_approved_again(
        system: System) -> None:
    async with graph(system, DAY) as stub:
        system.start_ingress()
        worker = system.start_worker()
        system.start_projector()
        await template_status(system, "ride_request", "APPROVED")  # the catalog, announced
        async with user(system, stub, "250788520001", ago_s=25 * 3600) as driver, \
                user(system, stub, "250788520002") as passenger:
            await online_and_requested(system, driver, passenger)
            stub.waba.last_inbound[driver.wa_id] = time.time() - 25 * 3600
            await stub.set_template_status("ride_request", "PAUSED", "en",
                                           reason="low quality")
            await template_status(system, "ride_request", "PAUSED")
            await passenger.choose(1)
            assert "Request sent" in texts(await got(passenger))
            held: list[dict[str, Any]] = []
            for _ in range(60):
                held = held_letters(system)
                if held:
                    break
                await asyncio.sleep(0.5)
            assert len(held) == 1, worker.tail()
            (letter,) = held
            assert letter["type"] == "outbound"
            assert letter["error_class"] == "template_unavailable"
            assert letter["status"] == "open"
            assert "'ride_request' in 'en' is PAUSED" in letter["error_message"]
            # nothing reached Meta: no template was tried while paused
            assert not [t for t, _ in sent_to(stub, driver.wa_id) if t == "template"]

            await stub.set_template_status("ride_request", "APPROVED", "en")
            req = (await got(driver, 1, 60))[0]
            assert req.body["type"] == "template", worker.tail()
            assert req.body["template"]["name"] == "ride_request"
            for _ in range(100):
                if ("template", 200) in sent_to(stub, driver.wa_id):
                    break
                await asyncio.sleep(0.2)
            assert sent_to(stub, driver.wa_id)[-1] == ("template", 200), worker.tail()
            await template_status(system, "ride_request", "APPROVED")
            (released,) = held_letters(system)
            assert released["status"] == "redriven"
            rows = await system.wait_rows(
                "SELECT status, reason, cardinality(event_ids) AS n FROM message_templates "
                "WHERE name = 'ride_request' AND language = 'en'", 1)
            assert (rows[0]["status"], rows[0]["n"]) == ("APPROVED", 3)
            # the message was held (wa.delivery), then accepted: the table says accepted
            sent = "SELECT status FROM wa_outbound_messages WHERE outbound_id = $1"
            for _ in range(100):
                rows = await system.wait_rows(sent, 1, 30, req.outbound_id)
                if rows[0]["status"] == "accepted":
                    break
                await asyncio.sleep(0.3)
            assert rows[0]["status"] == "accepted"
            deliveries = [d.json() for d in await system.read(topics.DELIVERY, min_count=1)]
            assert [d["status"] for d in deliveries
                    if d["outbound_id"] == req.outbound_id] == ["held", "accepted"]


async def test_a_131047_reported_later_in_a_status_webhook_gets_the_template_once(
        system: System) -> None:
    # The worker thinks the driver's window (24 h) is open; the stand-in (one hour)
    # accepts the free-form request and then fails it with 131047 in a status webhook.
    async with graph(system, 3600.0) as stub:
        stub.window_later = True
        system.start_ingress()
        worker = system.start_worker()
        async with user(system, stub, "250788520011", ago_s=2 * 3600) as driver, \
                user(system, stub, "250788520012") as passenger:
            await online_and_requested(system, driver, passenger)
            stub.waba.last_inbound[driver.wa_id] = time.time() - 2 * 3600
            await passenger.choose(1)
            req = (await got(driver))[0]
            assert req.body["type"] == "interactive", worker.tail()
            for _ in range(150):
                if sent_to(stub, driver.wa_id)[-1:] == [("template", 200)]:
                    break
                await asyncio.sleep(0.2)
            assert sent_to(stub, driver.wa_id)[-2:] == [("interactive", 200), ("template", 200)]
            late = [s for s in stub.seen if s.failed_later is not None]
            assert [s.body["type"] for s in late] == ["interactive"]
            assert stub.webhooks is not None
            assert ("messages", 200) in stub.webhooks.posted
            await asyncio.sleep(2)  # nothing more comes: the template went once
            assert [t for t, _ in sent_to(stub, driver.wa_id)].count("template") == 1
            dlq = await system.read(topics.DLQ, min_count=0, timeout_s=3, settle_s=1)
            assert dlq == [], [r.json() for r in dlq]



async def test_templates_sync_publish_tells_the_workers_what_the_account_approved(
        system: System) -> None:
    """Templates approved before any status webhook: ``wastream templates sync
    --publish`` writes what the account says to ``wa.templates``, which the workers fold."""
    from standins.graph import GraphStub
    from streams.delivery.templates import TemplateStatuses, decode
    from wastream.templates import shipped

    stub = await GraphStub().start()
    try:
        stub.waba.approve(shipped())
        stub.waba.set_status("ride_offer", "PAUSED", "en")
        system.env_overrides.update({"WHATSAPP_GRAPH_URL": stub.url,
                                     "WHATSAPP_ACCESS_TOKEN": stub.token,
                                     "WHATSAPP_WABA_ID": "102290129340398"})
        # in a thread: the stand-in answers from this event loop
        out = await asyncio.to_thread(system.cli, "templates", "sync", "--publish")
        every = len(shipped()) * 3
        assert f"{every} statuses written to wa.templates" in out.stdout, out.stdout
        records = await system.read(topics.TEMPLATES, min_count=every, timeout_s=20)
        statuses = TemplateStatuses()
        for r in records:
            change = decode(r.value)
            assert change is not None
            assert change.source == "sync"
            statuses.apply(change)
        assert statuses.status(("ride_request", "en")) == "APPROVED"
        assert statuses.status(("ride_request", "rw_RW")) == "APPROVED"
        assert statuses.status(("ride_offer", "en")) == "PAUSED"
    finally:
        await stub.stop()
