"""Outside the customer-service window, end to end (decision 0015): signed webhooks with
Meta's timestamps → the real ingress, broker and ``wastream worker`` → its sender →
the stand-in Graph API, which refuses free-form messages to users whose window is
closed (131047) and accepts only approved templates."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from schemas import topics
from standins.graph import GraphStub
from standins.webhooks import Webhooks
from tests.support.system import APP_SECRET, System, free_port
from wastream.driver import ConversationDriver, options, render
from wastream.templates import shipped

KIGALI = (-1.9441, 30.0619)
DAY = 86400.0


@contextlib.asynccontextmanager
async def graph(system: System, window_s: float, **env: str) -> AsyncIterator[GraphStub]:
    """The stand-in with the shipped catalog approved, the worker's sender pointed at it;
    its webhooks (first the catalog's APPROVED statuses, so the worker knows them) go to
    the ingress as soon as it is up."""
    stub = await GraphStub().start()
    stub.waba.window_s = window_s
    stub.waba.approve(shipped())
    system.ingress_port = system.ingress_port or free_port()
    stub.webhooks = Webhooks(system.webhook_url, APP_SECRET)
    stub.later(stub.announce())
    system.env_overrides.update({
        "WHATSAPP_GRAPH_URL": stub.url, "WHATSAPP_ACCESS_TOKEN": stub.token,
        "WASTREAM_SENDER_RECIPIENT_RATE": "1000", "WASTREAM_SENDER_RECIPIENT_BURST": "1000",
        "WASTREAM_RIDE_TIMEOUT_S": "60", "WASTREAM_TIMER_TICK_S": "0.3", **env})
    try:
        yield stub
    finally:
        await stub.stop()


@contextlib.asynccontextmanager
async def user(system: System, stub: GraphStub, wa_id: str,
               ago_s: float = 0.0) -> AsyncIterator[ConversationDriver]:
    """A user whose messages carry Meta timestamps ``ago_s`` in the past. The stand-in
    is told each message was written now: the replies to them went out when the user
    wrote (for a driver who went online yesterday, yesterday); the test sets the
    stand-in's window afterwards."""
    driver = ConversationDriver(system.webhook_url, APP_SECRET, system.bootstrap,
                                system.topic(topics.OUTBOUND), wa_id, ago_s=ago_s,
                                on_post=lambda w, _ts: stub.waba.wrote(w, time.time()))
    await driver.start()
    try:
        yield driver
    finally:
        await driver.stop()


async def got(u: ConversationDriver, n: int = 1, timeout_s: float = 40) -> list[Any]:
    r = await u.replies(min_count=n, timeout_s=timeout_s)
    assert len(r) >= n, f"{u.wa_id}: expected {n} replies, got {[render(x.body) for x in r]}"
    return r


def texts(replies: list[Any]) -> str:
    return "\n".join(render(r.body) for r in replies)


async def online_and_requested(system: System, driver: ConversationDriver,
                               passenger: ConversationDriver) -> list[Any]:
    """The driver goes online, the passenger finds them and sends a request; the
    driver's replies to it."""
    await driver.text("hi")
    await got(driver, 1, 60)
    await driver.pick("menu:rides_passengers")
    await got(driver)
    await driver.pick("vehicle:moto")
    await got(driver)
    await driver.location(KIGALI[0] + 0.01, KIGALI[1])
    assert "online as a Moto driver" in texts(await got(driver, 2))
    await passenger.text("hello")
    await got(passenger, 1, 60)
    await passenger.pick("menu:rides_drivers")
    await got(passenger)
    await passenger.pick("vehicle:moto")
    await got(passenger)
    await passenger.location(*KIGALI)
    listed = await got(passenger)
    assert [o[0] for o in options(listed[0].body)] == [f"driver:{driver.wa_id}"]
    return listed


async def no_131047_dead_letter(system: System) -> None:
    dlq = await system.read(topics.DLQ, min_count=0, timeout_s=5, settle_s=2)
    assert dlq == [], [r.json() for r in dlq]
    deliveries = [d.json() for d in await system.read(topics.DELIVERY, min_count=1)]
    failed = [d for d in deliveries if d["status"] == "failed"]
    assert failed == []


def sent_to(stub: GraphStub, wa_id: str) -> list[tuple[str, int]]:
    """(type, HTTP answer) of every message the stand-in got for ``wa_id``."""
    return [(str(s.body.get("type")), s.answer) for s in stub.seen if s.body.get("to") == wa_id]


async def test_a_driver_online_since_yesterday_gets_the_template_and_its_button_books(
        system: System) -> None:
    async with graph(system, DAY) as stub:
        system.start_ingress()
        worker = system.start_worker()
        async with user(system, stub, "250788510001", ago_s=25 * 3600) as driver, \
                user(system, stub, "250788510002") as passenger:
            await online_and_requested(system, driver, passenger)
            # the stand-in now holds the truth: the driver last wrote 25 hours ago
            stub.waba.last_inbound[driver.wa_id] = time.time() - 25 * 3600
            await passenger.choose(1)
            assert "Request sent" in texts(await got(passenger))
            req = (await got(driver))[0]
            assert req.body["type"] == "template", worker.tail()
            assert req.body["template"]["name"] == "ride_request"
            accept, decline = (o[0] for o in options(req.body))
            assert accept.startswith("ride:accept:")
            assert decline.startswith("ride:decline:")
            # Meta took the template: the window was closed and nothing free-form was tried
            assert sent_to(stub, driver.wa_id)[-1] == ("template", 200)
            driver.ago_s = 0.0  # pressing the button is a message: the window opens
            await driver.choose(1)  # Accept: a `button` message with the payload
            assert f"+{passenger.wa_id}" in texts(await got(driver))
            assert f"+{driver.wa_id}" in texts(await got(passenger))
            assert sent_to(stub, driver.wa_id)[-1] == ("text", 200)  # free-form again
            await no_131047_dead_letter(system)
            assert not [s for s in stub.seen if s.answer != 200]


async def test_a_misjudged_window_is_answered_by_the_template_not_a_dead_letter(
        system: System) -> None:
    # The worker thinks the driver's window (24 h) is open; Meta (the stand-in, one
    # hour) says it closed: the free-form request is refused with 131047 and the
    # sender sends its template instead.
    async with graph(system, 3600.0) as stub:
        system.start_ingress()
        worker = system.start_worker()
        async with user(system, stub, "250788510011", ago_s=2 * 3600) as driver, \
                user(system, stub, "250788510012") as passenger:
            await online_and_requested(system, driver, passenger)
            stub.waba.last_inbound[driver.wa_id] = time.time() - 2 * 3600
            await passenger.choose(1)
            req = (await got(driver))[0]
            assert req.body["type"] == "interactive", worker.tail()  # free-form chosen
            for _ in range(100):
                if sent_to(stub, driver.wa_id)[-1:] == [("template", 200)]:
                    break
                await driver.replies(min_count=0, timeout_s=0.3)
            assert sent_to(stub, driver.wa_id)[-2:] == [("interactive", 400), ("template", 200)]
            refused = [s for s in stub.seen if s.answer == 400]
            assert len(refused) == 1
            deliveries = [d.json() for d in await system.read(
                topics.DELIVERY, min_count=1, timeout_s=10, settle_s=2)]
            mine = [d for d in deliveries if d["outbound_id"] == req.outbound_id]
            assert [d["status"] for d in mine] == ["accepted"], mine
            # the template's quick reply carries the interactive button's id
            template = next(s.body for s in stub.seen
                            if s.body.get("to") == driver.wa_id and s.answer == 200
                            and s.body.get("type") == "template")
            payloads = [c["parameters"][0]["payload"]
                        for c in template["template"]["components"] if c["type"] == "button"]
            driver.ago_s = 0.0
            await driver.button(payloads[0])
            assert f"+{passenger.wa_id}" in texts(await got(driver))
            await no_131047_dead_letter(system)


async def test_a_trip_reminder_to_a_quiet_user_goes_as_its_template(system: System) -> None:
    # A short window (8 s, the same for the worker and the stand-in): by the time the
    # reminder is due (~20 s after the trip is booked), the user has been quiet.
    when = (int(time.time()) // 60 + 6) * 60
    soon = datetime.fromtimestamp(when, ZoneInfo("Africa/Kigali"))
    async with graph(system, 8.0, WASTREAM_SERVICE_WINDOW_S="8",
                     WASTREAM_REMINDER_BEFORE_S=str(when - int(time.time()) - 20)) as stub:
        system.start_ingress()
        worker = system.start_worker()
        async with user(system, stub, "250788510021") as rider:
            await rider.text("hi")
            assert await got(rider, 1, 60), worker.tail()
            await rider.pick("menu:rides_schedule")
            await got(rider)
            await rider.tap("sched:new")
            await got(rider)
            await rider.location(*KIGALI)
            await got(rider)
            await rider.location(KIGALI[0] - 0.05, KIGALI[1])
            await got(rider)
            await rider.text(soon.strftime("%Y-%m-%d %H:%M"))
            await got(rider)
            await rider.pick("vehicle:moto")
            await got(rider)
            await rider.tap("sched:yes")
            assert "Trip scheduled" in texts(await got(rider))
            reminder = (await got(rider, 1, 60))[0]
            assert reminder.body["type"] == "template", render(reminder.body)
            assert reminder.body["template"]["name"] == "trip_reminder"
            assert sent_to(stub, rider.wa_id)[-1] == ("template", 200)
            await no_131047_dead_letter(system)
