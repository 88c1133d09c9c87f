"""kill -9 of the projector, repeatedly and mid-batch, while it projects 20,000 events:
the tables must end exactly as a clean run leaves them (no loss, no duplicate)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from projections.migrations import migrate, quote_ident
from projections.projector import Projector
from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.outbound import OutboundMessage
from tests.support import projection_data as pd
from tests.support.system import System
from wastream.config import Settings

pytestmark = pytest.mark.slow

N_INBOUND = 20_000
N_STATE = 4_000
TABLES = {  # table -> stable order (kafka positions may differ between runs; not compared)
    "wa_events": ("event_id", ("kafka_partition", "kafka_offset")),
    "chat_state": ("wa_id", ("updated_at",)),
    "wa_state_transitions": ("wa_id, seq", ()),
    "wa_interactions": ("event_id", ()),
    "wa_outbound_messages": ("outbound_id", ()),
    "wa_delivery_events": ("outbound_key, wamid_key, status", ()),
}
N_OUTBOUND = 1_500


def _outbound_records() -> tuple[list[tuple[str, object]], list[tuple[str, object]], int]:
    """Replies and their delivery updates (sender: accepted with the wamid; Meta's
    webhooks: statuses naming only the wamid, some duplicated, some failed)."""
    rng = random.Random(11)  # noqa: S311 - test data
    msgs: list[tuple[str, object]] = []
    dels: list[tuple[str, object]] = []
    distinct: set[tuple[str, str, str]] = set()
    for i in range(N_OUTBOUND):
        wa = f"25077{i % 400:07d}"
        oid, wamid = f"wamid.IN{i}:0", f"wamid.OUT{i}"
        msgs.append((wa, OutboundMessage(outbound_id=oid, wa_id=wa, phone_number_id=pd.PNID,
                                         body={"type": "text", "text": {"body": "ok"}},
                                         in_reply_to=f"wamid.IN{i}", flow="menu",
                                         created_at="2026-01-05T10:00:00+00:00")))
        ups = [DeliveryUpdate(wa_id=wa, status="accepted", outbound_id=oid, wamid=wamid,
                              at="2026-01-05T10:00:01+00:00")]
        for status in rng.sample(["sent", "delivered", "read", "failed"], rng.randrange(4)):
            ups.append(DeliveryUpdate(wa_id=wa, status=status, wamid=wamid, source="webhook",
                                      at="2026-01-05T10:00:02+00:00",
                                      error={"code": 131047} if status == "failed" else None))
        ups += ups[-1:]  # a duplicate webhook
        for u in ups:
            distinct.add((u.outbound_id or "", u.wamid or "", u.status))
            dels.append((wa, u))
    return msgs, dels, len(distinct)


def _inbound_records() -> list[tuple[str, object]]:
    rng = random.Random(7)  # noqa: S311 - test data
    out: list[tuple[str, object]] = []
    users: list[str] = []
    for i in range(N_INBOUND):
        users.append(f"25078{rng.randrange(500):07d}")
        # 5% redeliveries: Meta resends the same message, so same user, same partition
        j = i if rng.random() > 0.05 else rng.randrange(max(1, i))
        wa = users[j]
        if i % 10 == 0:
            ev = pd.inbound(j, wa, type_="message.interactive.button_reply", payload={
                "type": "interactive", "context": {"id": f"wamid.CTX{j}"},
                "interactive": {"type": "button_reply",
                                "button_reply": {"id": f"b{j % 3}", "title": "B"}}})
        else:
            ev = pd.inbound(j, wa)
        out.append((ev.wa_id, ev))
    return out


def _state_records() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for i in range(N_STATE):
        wa = f"25079{i % 300:07d}"
        seq = i // 300 + 1
        out.append((wa, pd.state(wa, seq, "rides", f"step{seq}",
                                 previous=("rides", f"step{seq - 1}"))))
    return out


async def _tables(system: System, schema: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await system.db()
    try:
        await conn.execute(f"SET search_path TO {quote_ident(schema)}")
        return {t: await pd.dump(conn, t, order, exclude) for t, (order, exclude) in TABLES.items()}
    finally:
        await conn.close()


def _chunks(records: list[tuple[str, object]], n: int) -> list[list[tuple[str, object]]]:
    """``records`` cut into ``n`` consecutive slices (order within a key is kept)."""
    size = -(-len(records) // n)
    return [records[i * size:(i + 1) * size] for i in range(n)]


KILLS = 6


async def test_kill9_repeatedly_mid_batch_equals_clean_run(system: System) -> None:
    """The records arrive in KILLS + 1 slices, one before each projector starts. So each
    killed projector has work it has not done yet, whatever the machine's speed: it is
    killed once it has written some of its slice, and the last one finishes the lot.
    (With every record produced up front, a fast run could project everything before the
    sixth start, and that projector then had nothing to write.)"""
    system.env_overrides.update({
        "WASTREAM_PROJECTOR_BATCH": "200", "WASTREAM_PROJECTOR_LINGER_MS": "20",
        "WASTREAM_PROJECTOR_SESSION_TIMEOUT_MS": "6000"})
    inbound = _inbound_records()
    out_msgs, out_dels, n_deliveries = _outbound_records()
    slices = list(zip(*(_chunks(records, KILLS + 1) for records in (
        inbound, _state_records(), out_dels, out_msgs)), strict=True))
    order = (topics.INBOUND, topics.STATE, topics.DELIVERY, topics.OUTBOUND)

    async def caught_up(c: object) -> bool:
        q = c.fetchval  # type: ignore[attr-defined]
        return (await q("SELECT count(*) FROM wa_events") == distinct
                and await q("SELECT count(*) FROM wa_state_transitions") == N_STATE
                and await q("SELECT count(*) FROM wa_delivery_events") == n_deliveries
                and await q("SELECT count(*) FROM wa_outbound_messages "
                            "WHERE body IS NOT NULL") == N_OUTBOUND)
    distinct = len({r.event_id for _, r in inbound})  # type: ignore[attr-defined]

    progress: list[int] = []
    deadline = time.monotonic() + 240
    conn = await system.db()
    try:
        for kill in range(KILLS + 1):
            for topic, records in zip(order, slices[kill], strict=True):
                await pd.produce(system.bootstrap, system.topic(topic), records)
            # The previous projector is dead, so this count is settled; the new slice
            # holds event ids not projected yet, so the count must move.
            before = await conn.fetchval("SELECT count(*) FROM wa_events")
            proj = system.start_projector()
            if kill == KILLS:
                break
            # Wait until it is writing (the count moves), then kill it a random few
            # milliseconds later: while its slice's batches are in flight, often
            # mid-transaction (a slice takes it a few hundred ms).
            while await conn.fetchval("SELECT count(*) FROM wa_events") == before:
                assert proj.alive(), proj.tail()
                assert time.monotonic() < deadline, f"projector {kill + 1} made no progress"
                await asyncio.sleep(0.02)
            await asyncio.sleep(random.uniform(0.0, 0.05))  # noqa: S311
            proj.kill9()
            progress.append(await conn.fetchval("SELECT count(*) FROM wa_events"))
        while not await caught_up(conn):
            assert proj.alive(), proj.tail()
            assert time.monotonic() < deadline, "the last projector did not catch up"
            await asyncio.sleep(0.5)
        proj.stop()
        assert len(progress) == KILLS
        # the kills landed while it was working: after some progress, before the end
        print(f"killed at wa_events counts {progress} of {distinct}")
        assert all(0 < c < distinct for c in progress), progress
        dupes = await conn.fetchval(
            "SELECT count(*) FROM (SELECT event_id FROM wa_events GROUP BY 1 "
            "HAVING count(*) > 1) d")
        assert dupes == 0
    finally:
        await conn.close()

    # The same topics projected by one clean, uninterrupted run into another schema.
    clean = f"{system.schema}_clean"
    env = dict(system.env, WASTREAM_DB_SCHEMA=clean)
    settings = Settings.from_env(env)
    await migrate(settings)
    try:
        projector = Projector(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(projector.run(stop))
        probe = await system.db()
        try:
            await probe.execute(f"SET search_path TO {quote_ident(clean)}")
            for _ in range(240):
                if await caught_up(probe):
                    break
                await asyncio.sleep(0.5)
        finally:
            await probe.close()
        stop.set()
        await asyncio.wait_for(task, 30)
        live, ref = await _tables(system, system.schema), await _tables(system, clean)
        for table in TABLES:
            assert len(live[table]) > 0, table
            assert live[table] == ref[table], table
    finally:
        c = await system.owner_db()
        try:
            await c.execute(f"DROP SCHEMA IF EXISTS {quote_ident(clean)} CASCADE")
        finally:
            await c.close()
