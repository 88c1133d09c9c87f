"""The sender while PostgreSQL restarts (issue 16, finding 1): the claim / POST / settle
sequence waits the outage out. No reply is reported failed, none is dead-lettered, and
Meta gets each exactly once.

The database is a throwaway cluster of this test's own (``throwaway_pg``), restarted with
``pg_ctl restart -m fast`` while the replies drain; the Graph API is the stand-in, which
counts the POSTs."""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
import pytest

from projections.migrations import migrate
from schemas.delivery import DeliveryUpdate
from schemas.outbound import OutboundMessage
from standins.graph import GraphStub
from streams.delivery import ledger as ledger_module
from streams.delivery.graph import client_from_settings
from streams.delivery.ledger import FRESH, Ledger
from streams.delivery.pacing import Pacer
from streams.delivery.sender import Sender
from tests.support.failure import wait_until
from tests.support.pg import ThrowawayPostgres
from wastream.config import Settings

PNID = "106540352242922"


class Deliveries:
    """The publisher: keeps every ``wa.delivery`` record the sender emits."""

    def __init__(self) -> None:
        self.updates: list[DeliveryUpdate] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Mapping[str, bytes], partition: int | None = None) -> None:
        self.updates.append(DeliveryUpdate.from_bytes(value or b""))


def reply(n: int) -> OutboundMessage:
    wa_id = f"25078{n % 40:07d}"
    oid = f"wamid.in.{n}:0"
    return OutboundMessage(outbound_id=oid, wa_id=wa_id, phone_number_id=PNID,
                           body={"messaging_product": "whatsapp", "recipient_type": "individual",
                                 "to": wa_id, "type": "text", "text": {"body": oid}})


def settings_for(pg: ThrowawayPostgres, stub: GraphStub, schema: str) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": pg.url, "DATABASE_OWNER_URL": pg.owner_url, "WASTREAM_DB_SCHEMA": schema,
        "WHATSAPP_GRAPH_URL": stub.url, "WHATSAPP_ACCESS_TOKEN": stub.token,
        "WASTREAM_SENDER_RATE": "100000", "WASTREAM_SENDER_RECIPIENT_RATE": "100000",
        "WASTREAM_SENDER_RECIPIENT_BURST": "100000"})


async def test_replies_drain_exactly_once_while_postgres_restarts(
        throwaway_pg: ThrowawayPostgres) -> None:
    n, lanes = 500, 8  # lanes: the per-partition actors, each in order
    stub = await GraphStub(latency_s=0.01).start()
    settings = settings_for(throwaway_pg, stub, "wa_restart")
    await migrate(settings)
    client = client_from_settings(settings)
    ledger = Ledger(settings, migrate)
    deliveries = Deliveries()
    sender = Sender(settings, client, ledger, Pacer.from_settings(settings.sender), deliveries)
    failures: list[BaseException] = []
    msgs = [reply(i) for i in range(n)]

    async def lane(k: int) -> None:
        for msg in msgs[k::lanes]:
            try:
                await sender.process(msg.wa_id.encode(), msg.to_bytes(), {}, origin)
            except Exception as exc:  # what the failure router would retry or dead-letter
                failures.append(exc)

    origin: Any = None  # the router's place: the sender does not read it
    restarts_mid_drain = 0
    try:
        drain = asyncio.gather(*(lane(k) for k in range(lanes)))
        for after in (n // 5, n // 2):  # restart twice, each time mid-drain
            await wait_until(lambda a=after: len(stub.accepted) >= a or drain.done(), 120, 0.01)
            if not drain.done():
                await asyncio.to_thread(throwaway_pg.restart)
                restarts_mid_drain += not drain.done()
        await asyncio.wait_for(drain, 180)
    finally:
        await client.close()
        await ledger.close()
        await stub.stop()

    assert [f"{type(e).__name__}: {e}" for e in failures] == []
    assert restarts_mid_drain == 2, "the drain outran a restart: make it longer"
    posts = collections.Counter(s.body["text"]["body"] for s in stub.seen)
    assert sorted(posts) == sorted(m.outbound_id for m in msgs)
    assert [oid for oid, c in posts.items() if c != 1] == []  # each accepted exactly once
    statuses = collections.Counter((u.outbound_id, u.status) for u in deliveries.updates)
    assert [k for k in statuses if k[1] != "accepted"] == []
    assert sorted(k[0] for k in statuses) == sorted(m.outbound_id for m in msgs)
    assert [k for k, c in statuses.items() if c != 1] == []
    conn = await asyncpg.connect(throwaway_pg.url)
    try:
        rows = await conn.fetch("SELECT status, count(*) AS c, count(wamid) AS w "
                                "FROM wa_restart.wa_sender_ledger GROUP BY status")
    finally:
        await conn.close()
    assert {r["status"]: (r["c"], r["w"]) for r in rows} == {"accepted": (n, n)}


async def test_a_claim_whose_answer_was_lost_is_ours_not_in_doubt(
        throwaway_pg: ThrowawayPostgres, monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim commits, then the connection drops before its answer arrives: the
    claim runs again and must find its own row (not report it in doubt, never sent)."""
    stub = GraphStub()  # not started: only its url and token go into the settings
    settings = settings_for(throwaway_pg, stub, f"wa_lost{uuid.uuid4().hex[:6]}")
    ledger = Ledger(settings, migrate)
    real_fetchrow = asyncpg.Pool.fetchrow
    lost = []

    async def fetchrow_then_lose_answer(self: asyncpg.Pool, query: str, *args: Any,
                                        **kwargs: Any) -> Any:
        row = await real_fetchrow(self, query, *args, **kwargs)
        if query.startswith("INSERT") and not lost:
            lost.append(query)
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        return row

    monkeypatch.setattr(asyncpg.Pool, "fetchrow", fetchrow_then_lose_answer)
    try:
        assert await ledger.claim("out-1") == (FRESH, None)
        assert lost  # the answer was lost once
        await ledger.settle("out-1", "accepted", wamid="wamid.X")
        other = Ledger(settings, migrate)
        assert await other.claim("out-1") == (ledger_module.DONE, "wamid.X")
        await other.close()
    finally:
        await ledger.close()

