"""The farmer market end to end, through the real ingress, broker, worker and projector:
a farmer's listing is found and matched by a buyer 5 km away and not offered to one 80
km away; with the HTTP backend (the stand-in ``standins/agent.py`` on a loopback port),
an outage opens the ``agent`` breaker, the rules answer meanwhile (the user's later
message kept behind), and recovery closes it. ``agent_sessions`` rows say what
happened: turns, what was understood, the backend, the outcome."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from standins.agent import AgentStub
from streams.places import resolve
from tests.domains.test_parrot_e2e import said, users
from tests.support.system import System, free_port
from wastream.driver import options, render

F, B1, B2 = "250788630001", "250788630002", "250788630003"
MUSANZE = (-1.5000, 29.6350)  # the gazetteer's Musanze
NEAR = (MUSANZE[0] + 0.045, MUSANZE[1])  # the listing, ~5 km from Musanze
FAR = (NEAR[0] - 0.72, NEAR[1])  # ~80 km from the listing (the radius is 50 km)


async def _list(f, at: tuple[float, float]) -> str:  # type: ignore[no-untyped-def]
    """The farmer lists beans in one sentence, shares the place, skips the date."""
    await f.text("hi")
    await said(f, timeout_s=60)
    await f.pick("menu:farmer")
    await said(f)
    await f.text("I sell 300 kg of beans at 700 rwf")
    assert "Share your location" in (await said(f))[0]
    await f.location(*at)
    await said(f)
    await f.tap("harvest:skip")
    return (await said(f))[0]


async def test_a_listing_is_matched_by_a_buyer_near_and_not_offered_far(  # type: ignore[no-untyped-def]
        system: System) -> None:
    system.start_ingress()
    worker = system.start_worker()
    system.start_projector()
    async with users(system, F, B1, B2) as (f, b1, b2):
        listed = await _list(f, NEAR)
        assert listed.startswith("Listed: 300 kg of Beans at 700 RWF per kg"), worker.tail()

        await b1.text("hi")
        await said(b1)
        await b1.pick("menu:farmer")
        await said(b1)
        await b1.text("I want 200 kg of beans near Musanze")
        [found] = await said(b1)
        assert found.startswith("1 offers of Beans near Musanze"), found
        assert "300 kg — 700 RWF/kg · 5.0 km away" in found
        await b1.choose(1)
        assert "I'm interested" in (await said(b1))[0]
        await b1.tap("offer:interested")
        assert "farmer was told" in (await said(b1))[0]
        [asked] = await f.replies(min_count=1, timeout_s=30)
        assert "is interested in your Beans (300 kg at 700 RWF per kg), 5.0 km from you. "\
               "They want 200 kg." in render(asked.body)
        accept = options(asked.body)[0][0]
        assert accept.startswith("produce:accept:")
        await f.tap(accept)
        assert f"https://wa.me/{B1}" in (await said(f))[0]
        assert f"https://wa.me/{F}" in (await said(b1))[0]

        await b2.text("hi")
        await said(b2)
        await b2.pick("menu:farmer")
        await said(b2)
        await b2.tap("farmer:buy")
        await said(b2)
        await b2.pick("crop:beans")
        await said(b2)
        await b2.location(*FAR)
        assert (await said(b2))[0].startswith("No Beans on offer within 50 km of your "
                                              "location"), worker.tail()

    rows = await system.wait_rows("SELECT 1 FROM produce_matches WHERE status = 'matched'", 1)
    assert rows, worker.tail()
    listing = await system.wait_rows("SELECT farmer_wa_id, crop, quantity, unit, price, status "
                                     "FROM produce_listings", 1)
    assert [tuple(r) for r in listing] == [(F, "beans", 300.0, "kg", 700, "open")]
    match = await system.wait_rows("SELECT buyer_wa_id, farmer_wa_id, crop, km, status "
                                   "FROM produce_matches", 1)
    assert [tuple(r) for r in match] == [(B1, F, "beans", 5.0, "matched")]
    sessions = await system.wait_rows(
        "SELECT wa_id, turns, understood->>'intent', understood->>'crop', "
        "understood->>'place', backend, outcome FROM agent_sessions "
        "WHERE flow = 'farmer_market' AND (outcome IS NOT NULL OR step = 'results') "
        "ORDER BY wa_id", 3)
    assert [tuple(r) for r in sessions] == [
        (F, 1, "sell_produce", "beans", None, "rules", "listed"),
        (B1, 1, "buy_produce", "beans", "Musanze", "rules", "matched"),
        (B2, 0, "buy_produce", "beans", None, None, None)], worker.tail()


async def _metric(port: int, line: str, timeout_s: float = 60) -> str:
    """The worker's /metrics once it contains ``line``."""
    deadline = time.monotonic() + timeout_s
    text = ""
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            async with s.get(f"http://127.0.0.1:{port}/metrics") as r:
                text = await r.text()
            if line in text:
                break
            await asyncio.sleep(0.2)
    return text


OPEN = 'wastream_breaker_transitions_total{breaker="agent",to="open"} 1.0'
CLOSED = 'wastream_breaker_transitions_total{breaker="agent",to="closed"} 1.0'


async def test_an_agent_outage_opens_the_breaker_the_rules_answer_recovery_closes_it(  # type: ignore[no-untyped-def]
        system: System) -> None:
    stub = await AgentStub(resolve_place=resolve).start()
    port = free_port()
    system.env_overrides.update({
        "WASTREAM_AGENT_URL": stub.url, "WASTREAM_AGENT_MODEL": "stub-model",
        "WASTREAM_AGENT_TIMEOUT_S": "2", "WASTREAM_AGENT_BREAKER_FAILURES": "2",
        "WASTREAM_AGENT_BREAKER_OPEN_S": "3"})
    try:
        system.start_ingress()
        # The worker's health port only: services side by side each need their own.
        system.env_overrides["WASTREAM_HEALTH_PORT"] = str(port)
        worker = system.start_worker()
        del system.env_overrides["WASTREAM_HEALTH_PORT"]
        system.start_projector()
        async with users(system, F, B1, B2) as (f, b1, b2):
            # Up: the HTTP backend understands the farmer.
            assert (await _list(f, NEAR)).startswith("Listed: 300 kg of Beans"), worker.tail()
            assert len(stub.answered) == 1
            assert stub.answered[0].body["model"] == "stub-model"

            # Down: every call fails (500). The buyer's need goes to the retry tiers,
            # two failures open the breaker, and the rules answer the retry; the
            # buyer's next message waited behind it.
            stub.fail(1000, status=500)
            await b1.text("hi")
            await said(b1, timeout_s=60)
            await b1.pick("menu:farmer")
            await said(b1)
            await b1.text("I want 200 kg of beans near Musanze")
            await b1.text("menu")
            got = await said(b1, 2, timeout_s=60)
            assert got[0].startswith("1 offers of Beans near Musanze"), (got, worker.tail())
            assert got[1].startswith("Hello! What would you like to do?"), got
            assert [s.answer for s in stub.seen[1:]] == [500, 500], worker.tail()
            metrics = await _metric(port, OPEN)
            assert OPEN in metrics, metrics

            # Back: once the open period is over, the next call is the probe; it gets
            # through and closes the breaker.
            stub.faults.clear()
            await asyncio.sleep(3.5)
            await b2.text("hi")
            await said(b2, timeout_s=60)
            await b2.pick("menu:farmer")
            await said(b2)
            await b2.text("ndashaka ibishyimbo i Musanze")
            assert (await said(b2))[0].startswith("1 offers of Beans near Musanze")
            metrics = await _metric(port, CLOSED)
            assert CLOSED in metrics, metrics
            assert 'wastream_breaker_state{breaker="agent"} 0.0' in metrics
            assert [s.answer for s in stub.seen][-1] == 200

        sessions = await system.wait_rows(
            "SELECT wa_id, turns, understood->>'intent', understood->>'crop', backend "
            "FROM agent_sessions WHERE flow = 'farmer_market' ORDER BY wa_id", 3)
        assert [tuple(r) for r in sessions] == [
            (F, 1, "sell_produce", "beans", "http"),
            (B1, 1, "buy_produce", "beans", "rules"),
            (B2, 1, "buy_produce", "beans", "http")], worker.tail()
    finally:
        await stub.stop()
