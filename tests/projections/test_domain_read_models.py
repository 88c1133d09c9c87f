"""The read models of the general broker and the farmer market against the real
projector, broker and database: ``vendors``, ``broker_requests``, ``produce_listings``,
``produce_matches`` from ``wa.domain`` (an answer written before its request, as two
partitions may deliver them), ``agent_sessions`` from ``wa.state``; the analytics views
over them (users hashed); a replay rebuilds the same rows."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, date, datetime
from typing import Any

from schemas import topics
from schemas.domain import DomainEvent, Event
from streams.domains.broker.events import (
    BrokerAccepted,
    BrokerDeclined,
    BrokerRequest,
    BrokerTimedOut,
    VendorPaused,
    VendorRegistered,
)
from streams.domains.farmer.events import (
    ProduceClosed,
    ProduceDeclined,
    ProduceInterest,
    ProduceListed,
    ProduceMatched,
    ProduceUpdated,
)
from tests.support import projection_data as pd
from tests.support.system import System

KEY = "domain-analytics-key"
V1, V2, U1, U2 = "250788710001", "250788710002", "250788710011", "250788710012"
F1, B1, B2 = "250788720001", "250788720011", "250788720012"
T = 1_767_607_200  # 2026-01-05T10:00:00Z


def _at(s: float) -> str:
    return datetime.fromtimestamp(T + s, tz=UTC).isoformat()


def _dt(s: float) -> datetime:
    return datetime.fromtimestamp(T + s, tz=UTC)


def _fact(n: int, wa_id: str, ev: Event, s: float) -> tuple[str, DomainEvent]:
    return wa_id, DomainEvent(event_id=f"wamid.D{n}:{ev.type}", name=ev.type, wa_id=wa_id,
                              data=ev.to_data(), at=_at(s), version=ev.version)


def _hash(wa_id: str) -> str:
    return hmac.new(KEY.encode(), wa_id.encode(), hashlib.sha256).hexdigest()


async def _q(system: System, sql: str) -> list[tuple[Any, ...]]:
    conn = await system.db()
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def _records() -> list[tuple[str, DomainEvent]]:
    reg = VendorRegistered(name="Amazi Fix", categories=("plumber",), lat=-1.95, lon=30.1,
                           source="import", district="Kicukiro")
    return [
        # broker: the vendor's answer before the user's request (another partition)
        _fact(1, V1, BrokerAccepted(request_id="r1", user=U1, vendor=V1), 120),
        _fact(2, V1, reg, 0),
        _fact(3, V1, VendorPaused(), 10),
        _fact(4, V1, VendorRegistered(name="Amazi Fix Ltd", categories=("plumber", "mason"),
                                      lat=-1.95, lon=30.1, source="whatsapp"), 20),
        _fact(5, V2, VendorRegistered(name="Volt", categories=("electrician",), lat=-1.94,
                                      lon=30.06, source="whatsapp", district="Gasabo"), 5),
        _fact(6, U1, BrokerRequest(request_id="r1", user=U1, vendor=V1, category="plumber",
                                   place="Kicukiro", district="Kicukiro", km=2.5), 60),
        _fact(7, U2, BrokerRequest(request_id="r2", user=U2, vendor=V2, category="plumber",
                                   place="Remera", district="Gasabo", km=1.0), 60),
        _fact(8, U2, BrokerTimedOut(request_id="r2", user=U2, vendor=V2), 1860),
        _fact(9, V2, BrokerDeclined(request_id="r2", user=U2, vendor=V2), 1900),  # too late
        # farmer market: listed, updated, closed; one interest matched (answer first),
        # one declined
        _fact(10, F1, ProduceMatched(interest_id="i1", listing_id="l1", buyer=B1, farmer=F1,
                                     crop="beans"), 400),
        _fact(11, F1, ProduceListed(listing_id="l1", crop="beans", quantity=300, unit="kg",
                                    price=700, lat=-1.455, lon=29.635, listed_at=T + 100,
                                    expires_at=T + 100 + 14 * 86400, place="Musanze",
                                    district="Musanze", harvest_date="2026-01-20"), 100),
        _fact(12, B1, ProduceInterest(interest_id="i1", listing_id="l1", buyer=B1, farmer=F1,
                                      crop="beans", km=5.0, wanted="200 kg"), 300),
        _fact(13, B2, ProduceInterest(interest_id="i2", listing_id="l1", buyer=B2, farmer=F1,
                                      crop="beans", km=12.5), 310),
        _fact(14, F1, ProduceDeclined(interest_id="i2", listing_id="l1", buyer=B2, farmer=F1,
                                      crop="beans"), 500),
        _fact(15, F1, ProduceUpdated(listing_id="l1", quantity=100, unit="kg"), 600),
        _fact(16, F1, ProduceListed(listing_id="l2", crop="maize", quantity=2, unit="tonne",
                                    price=400_000, lat=-1.5, lon=29.6, listed_at=T + 700,
                                    expires_at=T + 700 + 14 * 86400), 700),
        _fact(17, F1, ProduceClosed(listing_id="l2"), 800),
    ]


def _sessions() -> list[Any]:
    def data(turns: int, outcome: str | None, **u: Any) -> dict[str, Any]:
        d: dict[str, Any] = {"session": {"understood": u, "turns": turns, "backend": "rules",
                                         "latency_ms": 3}}
        if outcome:
            d["outcome"] = outcome
        return d

    return [
        pd.state(U1, 1, "general_broker", "start", previous=("menu", "main"), at=_at(30)),
        pd.state(U1, 2, "general_broker", "done", previous=("general_broker", "start"),
                 data=data(1, "connected", intent="find_service", category="plumber",
                           place="Kicukiro"), at=_at(130)),
        pd.state(U2, 1, "general_broker", "start", previous=("menu", "main"), at=_at(30)),
        pd.state(U2, 2, "general_broker", "pick", previous=("general_broker", "start"),
                 data=data(2, None, intent="find_service", category="plumber",
                           place="Remera"), at=_at(50)),
        pd.state(U2, 3, "menu", "main", previous=("general_broker", "pick"), at=_at(70)),
        pd.state(B1, 1, "farmer_market", "start", previous=("menu", "main"), at=_at(200)),
        pd.state(B1, 2, "farmer_market", "results", previous=("farmer_market", "start"),
                 data=data(1, "interested", intent="buy_produce", crop="beans",
                           place="Musanze"), at=_at(300)),
    ]


async def test_the_domains_read_models_and_their_analytics(system: System) -> None:
    system.env_overrides["WASTREAM_ANALYTICS_KEY"] = KEY
    await asyncio.to_thread(system.migrate)  # stores the key
    records = _records()
    answers = [r for r in records if r[1].name in ("BrokerAccepted", "ProduceMatched")]
    # The answers are projected first: their rows exist before the request/interest.
    await pd.produce(system.bootstrap, system.topic(topics.DOMAIN), answers)
    system.start_projector()
    early = await system.wait_rows("SELECT 1 FROM broker_requests UNION ALL "
                                   "SELECT 1 FROM produce_matches", 2)
    assert len(early) == 2
    assert await _q(system, "SELECT category, status, km FROM broker_requests") == [
        ("", "accepted", None)]
    late = [r for r in records if r[1].name == "BrokerDeclined"]  # after its timeout
    await pd.produce(system.bootstrap, system.topic(topics.DOMAIN),
                     [r for r in records if r not in answers and r not in late])
    await pd.produce(system.bootstrap, system.topic(topics.STATE),
                     [(s.wa_id, s) for s in _sessions()])
    await system.wait_rows("SELECT 1 FROM broker_requests WHERE status = 'timed_out'", 1)
    await pd.produce(system.bootstrap, system.topic(topics.DOMAIN), late)
    await system.wait_rows("SELECT 1 FROM wa_domain_events WHERE name = 'BrokerDeclined'", 1)
    await system.wait_rows("SELECT 1 FROM produce_listings WHERE status = 'closed'", 1)
    await system.wait_rows("SELECT 1 FROM agent_sessions", 3)

    assert await _q(system, "SELECT vendor_wa_id, name, categories, district, status, source, "
                            "registered_at, updated_at, last_event_id FROM vendors "
                            "ORDER BY 1") == [
        (V1, "Amazi Fix Ltd", ["plumber", "mason"], None, "paused", "whatsapp", _dt(0),
         _dt(20), "wamid.D4:VendorRegistered"),
        (V2, "Volt", ["electrician"], "Gasabo", "active", "whatsapp", _dt(5), _dt(5),
         "wamid.D5:VendorRegistered")]
    assert await _q(system, "SELECT request_id, user_wa_id, vendor_wa_id, category, place, "
                            "district, km, status, requested_at, answered_at "
                            "FROM broker_requests ORDER BY 1") == [
        ("r1", U1, V1, "plumber", "Kicukiro", "Kicukiro", 2.5, "accepted", _dt(60), _dt(120)),
        ("r2", U2, V2, "plumber", "Remera", "Gasabo", 1.0, "timed_out", _dt(60), _dt(1860))]
    assert await _q(system, "SELECT listing_id, farmer_wa_id, crop, quantity, unit, price, "
                            "harvest_date, status, listed_at, expires_at, updated_at "
                            "FROM produce_listings ORDER BY 1") == [
        ("l1", F1, "beans", 100.0, "kg", 700, date(2026, 1, 20), "open", _dt(100),
         _dt(100 + 14 * 86400), _dt(600)),
        ("l2", F1, "maize", 2.0, "tonne", 400_000, None, "closed", _dt(700),
         _dt(700 + 14 * 86400), _dt(800))]
    assert await _q(system, "SELECT interest_id, listing_id, buyer_wa_id, farmer_wa_id, crop, "
                            "km, status, interested_at, answered_at FROM produce_matches "
                            "ORDER BY 1") == [
        ("i1", "l1", B1, F1, "beans", 5.0, "matched", _dt(300), _dt(400)),
        ("i2", "l1", B2, F1, "beans", 12.5, "declined", _dt(310), _dt(500))]

    day = date(2026, 1, 5)
    assert await _q(system, "SELECT * FROM analytics_broker_needs ORDER BY 3") == [
        (day, "plumber", "Gasabo", 1, 0, 0),  # Remera is a sector of Gasabo
        (day, "plumber", "Kicukiro", 1, 1, 1)]
    rates = await _q(system, "SELECT day, market, kind, asked, matched, match_rate::float "
                             "FROM analytics_match_rate ORDER BY 2")
    assert rates == [(day, "broker", "plumber", 2, 1, 0.5), (day, "farmer", "beans", 2, 1, 0.5)]
    assert await _q(system, "SELECT day, category, answers, p50_s, p95_s "
                            "FROM analytics_vendor_answer_time") == [
        (day, "plumber", 1, 60.0, 60.0)]
    assert await _q(system, "SELECT flow, backend, sessions, turns, p50_ms "
                            "FROM analytics_agent_backends ORDER BY 1") == [
        ("farmer_market", "rules", 1, 1, 3.0), ("general_broker", "rules", 2, 3, 3.0)]
    assert sorted(await _q(system, "SELECT user_hash, flow, outcome "
                                   "FROM analytics_agent_sessions")) == sorted([
        (_hash(U1), "general_broker", "connected"), (_hash(U2), "general_broker", "abandoned"),
        (_hash(B1), "farmer_market", "interested")])
    assert await _q(system, "SELECT crop, listings, quantity, median_price, matched "
                            "FROM analytics_produce_listings ORDER BY 1") == [
        ("beans", 1, 100.0, 700.0, 1), ("maize", 1, 2.0, 400_000.0, 0)]

    # Rebuilt from the log, each read model has the same rows.
    for name, table, order in (("vendors", "vendors", "vendor_wa_id"),
                               ("broker_requests", "broker_requests", "request_id"),
                               ("produce_listings", "produce_listings", "listing_id"),
                               ("produce_matches", "produce_matches", "interest_id")):
        conn = await system.db()
        try:
            live = await pd.dump(conn, table, order)
        finally:
            await conn.close()
        result = await asyncio.to_thread(system.cli, "replay", "--projection", name,
                                         "--from-beginning")
        assert f"swapped {name}" in result.stderr, result.stderr
        conn = await system.db()
        try:
            assert await pd.dump(conn, table, order) == live, name
        finally:
            await conn.close()
