"""Every flow end to end: signed webhooks → real ingress → real broker → real
``wastream worker`` → replies read from ``wa.outbound`` (via ``ConversationDriver``)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator

import orjson

from schemas import topics
from schemas.domain import DomainEvent
from schemas.outbound import OutboundMessage
from schemas.state import StateTransition
from tests.support.system import APP_SECRET
from wastream.driver import ConversationDriver, options, render

KIGALI = (-1.9441, 30.0619)
FAST = {
    "WASTREAM_RIDE_TIMEOUT_S": "4",
    "WASTREAM_TIMER_TICK_S": "0.3",
    "WASTREAM_REMINDER_BEFORE_S": "0",
}


@contextlib.asynccontextmanager
async def users(system, *wa_ids: str) -> AsyncIterator[list[ConversationDriver]]:  # type: ignore[no-untyped-def]
    drivers = [
        ConversationDriver(
            system.webhook_url, APP_SECRET, system.bootstrap, system.topic(topics.OUTBOUND), w
        )
        for w in wa_ids
    ]
    for d in drivers:
        await d.start()
    try:
        yield drivers
    finally:
        for d in drivers:
            await d.stop()


async def got(user: ConversationDriver, n: int = 1, timeout_s: float = 30) -> list:  # type: ignore[type-arg]
    """The next replies to ``user``; fails unless at least ``n`` came."""
    r = await user.replies(min_count=n, timeout_s=timeout_s)
    assert len(r) >= n, f"{user.wa_id}: expected {n} replies, got {[render(x.body) for x in r]}"
    return r


def texts(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(render(r.body) for r in replies)


async def test_rides_request_accept_timeout_and_duplicates(system) -> None:  # type: ignore[no-untyped-def]
    system.env_overrides.update(FAST)
    system.start_ingress()
    worker = system.start_worker()
    async with users(system, "250788500001", "250788500002") as (driver, passenger):
        await driver.text("hi")
        menu = await got(driver, 1, 60)
        assert menu, worker.tail()
        assert [o[0] for o in options(menu[0].body)][:3] == [
            "menu:rides_drivers",
            "menu:rides_passengers",
            "menu:rides_schedule",
        ]
        await driver.choose(2)
        await got(driver)
        await driver.choose(1)  # moto
        assert menu[0].body["interactive"]["type"] == "list"
        ask = await got(driver)
        assert ask[0].body["interactive"]["type"] == "location_request_message"
        await driver.location(KIGALI[0] + 0.01, KIGALI[1])
        online = texts(await got(driver, 2))
        assert "online as a Moto driver" in online
        assert "No passengers waiting" in online

        await passenger.text("hello")
        await got(passenger)
        await passenger.pick("menu:rides_drivers")
        await got(passenger)
        await passenger.pick("vehicle:moto")
        await got(passenger)
        await passenger.location(*KIGALI)
        listed = await got(passenger)
        assert [o[0] for o in options(listed[0].body)] == ["driver:250788500001"]
        assert "1.1 km away" in render(listed[0].body)

        # request → accept
        await passenger.choose(1)
        assert "Request sent" in texts(await got(passenger))
        req = await got(driver)
        assert [o[1] for o in options(req[0].body)] == ["Accept", "Decline"]
        await driver.choose(1)
        assert "+250788500002" in texts(await got(driver))
        assert "+250788500001" in texts(await got(passenger))

        # request → no answer → timeout after 4 s → pick again
        await passenger.pick("menu:rides_drivers")
        await got(passenger)
        await passenger.pick("vehicle:moto")
        await got(passenger)
        await passenger.location(*KIGALI)
        await got(passenger)
        await passenger.choose(1)
        await got(passenger)
        late = (await got(driver))[0]
        timed_out = await got(passenger, 2, 30)
        assert "did not answer in time" in texts(timed_out)
        assert "no longer open" in texts(await got(driver))
        driver.last = late
        await driver.choose(1)  # too late
        assert "no longer open" in texts(await got(driver))

        # Nearby passengers: the driver goes online again and sees the searching passenger.
        await driver.pick("menu:rides_passengers")
        await got(driver)
        await driver.pick("vehicle:moto")
        await got(driver)
        await driver.location(KIGALI[0] + 0.01, KIGALI[1])
        seen = await got(driver, 2)
        assert [o[0] for o in options(seen[-1].body)] == ["passenger:250788500002"]
        await driver.choose(1)
        assert "Offer sent" in texts(await got(driver))
        assert "offers you a ride. Contact: +250788500001" in texts(await got(passenger))

        # Meta redelivers the passenger's pick: nothing changes, nothing is sent.
        states_before = await system.read(topics.STATE, min_count=1)
        wamid = await passenger.text("menu")
        first = await got(passenger)
        assert len(first) == 1
        body = orjson.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "1",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": "1",
                                        "phone_number_id": passenger.phone_number_id,
                                    },
                                    "messages": [
                                        {
                                            "from": passenger.wa_id,
                                            "id": wamid,
                                            "timestamp": str(int(time.time())),
                                            "type": "text",
                                            "text": {"body": "menu"},
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
        )
        for _ in range(2):
            await passenger.post_raw(body)
        assert await passenger.replies(min_count=1, timeout_s=4) == []
        await asyncio.sleep(1)
        ids = {
            OutboundMessage.from_bytes(r.value or b"").outbound_id
            for r in await system.read(topics.OUTBOUND, min_count=1)
        }
        assert {i for i in ids if i.startswith(wamid)} == {f"{wamid}:0"}
        states_after = await system.read(topics.STATE, min_count=len(states_before) + 1)
        assert len(states_after) == len(states_before) + 1

    # `wastream chat` drives the same system from a terminal.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wastream.cli",
        "chat",
        "--as",
        "250788500009",
        "--url",
        system.webhook_url,
        env=system.env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    typed = b"hi\n3\n1\n/location -1.95,30.06\n/location -1.96,30.07\n/quit\n"
    stdout, _ = await asyncio.wait_for(proc.communicate(typed), 90)
    shown = stdout.decode()
    assert proc.returncode == 0, shown
    for expected in (
        "1. Nearby drivers — Find a driver near you",
        "1. New trip",
        "Share the pickup location.",
        "Share the drop-off location.",
        "1. Today",
        "2. Tomorrow",
    ):
        assert expected in shown, shown

    names = [
        DomainEvent.from_bytes(r.value or b"").name
        for r in await system.read(topics.DOMAIN, min_count=6)
    ]
    for name in (
        "DriverOnline",
        "RideSearched",
        "RideRequested",
        "RideAccepted",
        "RideTimedOut",
        "RideOffered",
    ):
        assert name in names, names
    seqs: dict[str, list[int]] = {}
    for r in states_after:
        st = StateTransition.from_bytes(r.value or b"")
        seqs.setdefault(st.wa_id, []).append(st.seq)
    for wa_id, s in seqs.items():
        assert s == list(range(1, len(s) + 1)), (wa_id, s)


async def test_schedule_a_trip_with_reminder_and_language(system) -> None:  # type: ignore[no-untyped-def]
    import time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    # A trip 5-6 minutes ahead (typed times have minute precision) whose reminder is due
    # ~15 s from now: WASTREAM_REMINDER_BEFORE_S is chosen so (the engine sends it at
    # once if the trip is only confirmed after that).
    when = (int(time.time()) // 60 + 6) * 60
    soon = datetime.fromtimestamp(when, ZoneInfo("Africa/Kigali"))
    system.env_overrides.update(FAST)
    system.env_overrides["WASTREAM_REMINDER_BEFORE_S"] = str(when - int(time.time()) - 15)
    system.start_ingress()
    worker = system.start_worker()
    async with users(system, "250788500003") as (user,):
        await user.text("bonjour")
        assert await got(user, 1, 60), worker.tail()
        await user.pick("menu:language")
        await got(user)
        await user.tap("lang:fr")
        assert "Langue : français." in texts(await got(user, 2))
        await user.pick("menu:rides_schedule")
        await got(user)
        await user.tap("sched:new")
        assert "départ" in texts(await got(user))
        await user.location(*KIGALI)
        await got(user)
        await user.location(KIGALI[0] - 0.05, KIGALI[1])
        await got(user)
        await user.text("2099-01-02 08:30")
        await got(user)
        await user.pick("vehicle:cab")
        confirm = await got(user)
        assert "2099-01-02 08:30" in texts(confirm)
        await user.choose(1)
        assert "Trajet planifié" in texts(await got(user))
        await user.pick("menu:rides_schedule")
        await got(user)
        await user.tap("sched:list")
        trips = await got(user)
        assert [o[1] for o in options(trips[0].body)] == ["2099-01-02 08:30"]
        await user.choose(1)
        assert "annulé" in texts(await got(user))

        # The near trip: its reminder comes from the timer task.
        await user.pick("menu:rides_schedule")
        await got(user)
        await user.tap("sched:new")
        await got(user)
        await user.location(*KIGALI)
        await got(user)
        await user.location(*KIGALI)
        await got(user)
        await user.text(soon.strftime("%Y-%m-%d %H:%M"))
        await got(user)
        await user.pick("vehicle:moto")
        await got(user)
        await user.tap("sched:yes")
        done = await got(user)
        assert "Trajet planifié" in texts(done)
        reminder = await got(user, 1, 40)
        assert "Rappel : votre trajet en Moto" in texts(reminder), worker.tail()
