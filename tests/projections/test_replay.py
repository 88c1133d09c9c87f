"""``wastream replay``: a rebuild into a shadow schema equals the live tables row for
row, readers during the swap never see an empty or half-built table, and the live
projector keeps going on the swapped tables."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from schemas import topics
from tests.support import projection_data as pd
from tests.support.system import System

N = 3000


async def _oid(system: System, table: str) -> int:
    conn = await system.db()
    try:
        return int(await conn.fetchval("SELECT $1::regclass::oid", table))
    finally:
        await conn.close()


async def _dump(system: System, table: str, order: str, exclude: tuple[str, ...] = ()) -> list:
    conn = await system.db()
    try:
        return await pd.dump(conn, table, order, exclude)
    finally:
        await conn.close()


async def test_replay_equals_live_and_readers_never_see_a_partial_table(system: System) -> None:
    inbound = [pd.inbound(i, f"25078{i % 97:07d}") for i in range(N)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND),
                     [(e.wa_id, e) for e in inbound])
    states = [pd.state(f"25079{i % 50:07d}", i // 50 + 1, "rides", f"s{i // 50}")
              for i in range(500)]
    await pd.produce(system.bootstrap, system.topic(topics.STATE), [(s.wa_id, s) for s in states])
    proj = system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_events", N, 60)
    await system.wait_rows("SELECT 1 FROM wa_state_transitions", 500, 60)
    live_events = await _dump(system, "wa_events", "event_id")
    live_state = await _dump(system, "chat_state", "wa_id", ("updated_at",))
    oid_before = await _oid(system, "wa_events")

    seen: list[int] = []
    stop = asyncio.Event()

    async def reader() -> None:
        conn = await system.db()
        try:
            while not stop.is_set():
                seen.append(await conn.fetchval("SELECT count(*) FROM wa_events"))
                await asyncio.sleep(0.005)
        finally:
            await conn.close()

    task = asyncio.create_task(reader())
    t0 = time.monotonic()
    result = await asyncio.to_thread(system.cli, "replay", "--projection", "events",
                                     "--from-beginning")
    stop.set()
    await task
    assert "swapped events" in result.stderr, result.stderr
    assert "records" in result.stdout
    assert seen
    assert (min(seen), max(seen)) == (N, N), len(seen)
    assert await _oid(system, "wa_events") != oid_before  # really a new table
    assert await _dump(system, "wa_events", "event_id") == live_events
    # shadow and retired schemas are gone
    conn = await system.db()
    try:
        left = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
                                system.schema + "\\_\\_%")
        assert left == []
    finally:
        await conn.close()

    # chat_state too (latest seq wins, the fold is rebuilt identically)
    await asyncio.to_thread(system.cli, "replay", "--projection", "chat_state", "--from-beginning")
    assert await _dump(system, "chat_state", "wa_id", ("updated_at",)) == live_state

    # the live projector carries on into the swapped tables
    more = [pd.inbound(N + i, "250781234567") for i in range(50)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in more])
    rows = await system.wait_rows("SELECT 1 FROM wa_events", N + 50, 60)
    assert len(rows) == N + 50
    assert proj.alive(), proj.tail()
    assert time.monotonic() - t0 < 120


async def test_replay_dry_run_prints_plan_and_changes_nothing(system: System) -> None:
    events = [pd.inbound(i, "250780000001") for i in range(5)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in events])
    result = system.cli("replay", "--projection", "events", "--from-offset", "wa.inbound:0:2",
                        "--dry-run")
    part = next(r.partition for r in await system.read(topics.INBOUND, min_count=5))
    assert "total" in result.stdout
    assert f"{topics.INBOUND}[{part}]: offsets {2 if part == 0 else 0} .. 5" in result.stdout
    conn = await system.db()
    try:
        assert await conn.fetchval("SELECT count(*) FROM wa_events") == 0
    finally:
        await conn.close()
    bad = system.cli("replay", "--projection", "nope", "--from-beginning", check=False)
    assert bad.returncode == 2
    assert "unknown projection" in bad.stderr


async def test_replay_while_events_keep_arriving_loses_nothing(system: System) -> None:
    system.env_overrides.update({"WASTREAM_PROJECTOR_BATCH": "300",
                                 "WASTREAM_PROJECTOR_LINGER_MS": "20"})
    first = [pd.inbound(i, f"25078{i % 89:07d}") for i in range(N)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in first])
    proj = system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_events", N, 60)
    more = [pd.inbound(N + i, f"25078{i % 89:07d}") for i in range(3000)]
    done = asyncio.Event()

    async def keep_producing() -> None:
        for k in range(0, len(more), 100):
            await pd.produce(system.bootstrap, system.topic(topics.INBOUND),
                             [(e.wa_id, e) for e in more[k:k + 100]])
            await asyncio.sleep(0.05)
        done.set()

    producer = asyncio.create_task(keep_producing())
    result = await asyncio.to_thread(system.cli, "replay", "--projection", "events",
                                     "--from-beginning")
    assert "swapped events" in result.stderr, result.stderr
    await producer
    assert done.is_set()
    rows = await system.wait_rows("SELECT event_id FROM wa_events", N + 3000, 60)
    assert len(rows) == N + 3000
    assert {r["event_id"] for r in rows} == {e.event_id for e in first + more}
    conn = await system.db()
    try:
        indexes = {r["indexname"] for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'wa_events'",
            system.schema)}
    finally:
        await conn.close()
    assert {"wa_events_pkey", "wa_events_wa_id_idx", "wa_events_type_idx",
            "wa_events_received_idx", "wa_events_correlation_idx"} <= indexes
    assert proj.alive(), proj.tail()


async def test_bounded_replay_then_live_projector_backfills(system: System) -> None:
    first = [pd.inbound(i, f"25078{i % 53:07d}") for i in range(1000)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in first])
    proj = system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_events", 1000, 60)
    inbound = system.topic(topics.INBOUND)
    result = await asyncio.to_thread(system.cli, "replay", "--projection", "events",
                                     "--from-beginning", "--to", f"{inbound}:0:100",
                                     f"{inbound}:1:100")
    assert "swapped events" in result.stderr, result.stderr
    sizes = [0, 0]
    for rec in await system.read(topics.INBOUND, min_count=1000):
        sizes[rec.partition] += 1
    conn = await system.db()
    try:
        count = await conn.fetchval("SELECT count(*) FROM wa_events")
        assert count == min(100, sizes[0]) + min(100, sizes[1])
    finally:
        await conn.close()
    # the next records of each partition make the live projector notice the gap
    more = [pd.inbound(5000 + i, f"25078{i % 53:07d}") for i in range(20)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in more])
    rows = await system.wait_rows("SELECT event_id FROM wa_events", 1020, 60)
    assert {r["event_id"] for r in rows} == {e.event_id for e in first + more}
    assert "seeking" in proj.tail(400)


async def test_replay_from_time_rebuilds_from_that_point(system: System) -> None:
    from datetime import UTC, datetime

    old = [pd.inbound(i, f"25078{i % 7:07d}") for i in range(100)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in old])
    await asyncio.sleep(1.0)
    cut = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.2)
    new = [pd.inbound(1000 + i, f"25078{i % 7:07d}") for i in range(50)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in new])
    dry = system.cli("replay", "--projection", "events", "--from-time", cut, "--dry-run")
    assert "total 50 records" in dry.stdout, dry.stdout
    done = system.cli("replay", "--projection", "events", "--from-time", cut)
    assert "swapped events" in done.stderr
    conn = await system.db()
    try:
        got = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM wa_events")}
    finally:
        await conn.close()
    assert got == {e.event_id for e in new}
    bad = system.cli("replay", "--projection", "events", "--from-time", "noon", check=False)
    assert bad.returncode == 2


async def test_replay_reads_and_decodes_while_the_shadow_is_made(
        system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shadow's DDL and the reader's fetch and decode overlap: making the shadow
    here only proceeds once every record was decoded, which
    deadlocks (and times out) if the build reads only after migrating; no record is
    written before the shadow exists, and the first write carries everything read."""
    from projections import replay as replay_mod
    from projections.store import Store
    from wastream.config import Settings

    n = 1200
    inbound = [pd.inbound(i, f"25078{i % 31:07d}") for i in range(n)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND),
                     [(e.wa_id, e) for e in inbound])
    decoded: list[int] = []
    applied: list[int] = []
    shadow_done, all_decoded = asyncio.Event(), asyncio.Event()
    real_make, real_prepare, real_apply = (replay_mod.Replay._make_shadow, replay_mod.prepare,
                                           Store.apply)

    def prepare(projections: Any, msgs: Any) -> None:
        decoded.append(len(msgs))
        real_prepare(projections, msgs)
        if sum(decoded) >= n:
            all_decoded.set()

    async def make_shadow(self: replay_mod.Replay) -> list[str]:
        await asyncio.wait_for(all_decoded.wait(), 30)
        out = await real_make(self)
        shadow_done.set()
        return out

    async def apply(self: Store, batch: Any) -> Any:
        assert shadow_done.is_set(), "a batch was written before the shadow was made"
        applied.append(sum(len(v) for v in batch.values()))
        return await real_apply(self, batch)

    monkeypatch.setattr(replay_mod.Replay, "_make_shadow", make_shadow)
    monkeypatch.setattr(replay_mod, "prepare", prepare)
    monkeypatch.setattr(Store, "apply", apply)
    settings = Settings.from_env(system.env)
    replay = replay_mod.Replay(settings, "events")
    try:
        plan = await replay.plan(from_beginning=True)
        store = await replay.build(plan)
        await replay.swap(plan, store)
        await store.close()
    finally:
        await replay.close()
    assert sum(applied) == n
    assert applied[0] == n, applied  # the first batch grew while the shadow was made
    assert set(replay.timings) >= {"shadow", "load", "indexes"}
    rows = await system.wait_rows("SELECT event_id FROM wa_events", n, 10)
    assert {r["event_id"] for r in rows} == {e.event_id for e in inbound}


async def _shape(conn: Any, schema: str, table: str) -> tuple[list[Any], list[Any], list[Any]]:
    """Columns, constraints and indexes of ``schema.table``, without the schema's name."""
    rel = f'"{schema}"."{table}"'
    cols = await conn.fetch(
        "SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid) AS dflt FROM pg_attribute a LEFT JOIN pg_attrdef d "
        "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", rel)
    cons = await conn.fetch("SELECT conname, contype, pg_get_constraintdef(oid) AS def "
                            "FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname",
                            rel)
    idx = await conn.fetch("SELECT ic.relname, replace(pg_get_indexdef(i.indexrelid), $2, '') "
                           "AS def FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
                           "WHERE i.indrelid = $1::regclass ORDER BY ic.relname",
                           rel, f"{schema}.")
    return [tuple(r) for r in cols], [tuple(r) for r in cons], [tuple(r) for r in idx]


async def test_shadow_has_the_live_shape_for_every_projection(system: System) -> None:
    """Every projection's shadow (made from the live tables, not by migrating) has the
    live columns, defaults, constraints and, once its deferred indexes are built, the
    live indexes under the same names: the swap must not change a table's shape."""
    from projections import replay as replay_mod
    from projections.registry import all_projections
    from wastream.config import Settings

    settings = Settings.from_env(system.env)
    conn = await system.owner_db()
    try:
        for projection in all_projections(settings):
            replay = replay_mod.Replay(settings, projection.name)
            deferred = await replay._make_shadow()
            await replay._restore_indexes(deferred)
            for table in (*projection.tables, "projection_offsets", "projection_errors"):
                live = await _shape(conn, system.schema, table)
                shadow = await _shape(conn, replay.shadow, table)
                assert live[0], table
                assert shadow == live, (projection.name, table)
            await conn.execute(f'DROP SCHEMA "{replay.shadow}" CASCADE')
    finally:
        await conn.close()


async def test_replay_hands_a_batch_over_only_to_a_waiting_writer(
        system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the writer is busy, the reader keeps growing its batch: a batch put in the
    queue while the writer was busy would be a small extra transaction. With a writer
    slower than the whole read, the first batch goes alone and the rest follows as one."""
    from aiokafka import TopicPartition

    from projections import replay as replay_mod
    from projections.store import Store
    from wastream.config import Settings

    n = 1500
    inbound = [pd.inbound(i, f"25078{i % 31:07d}") for i in range(n)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND),
                     [(e.wa_id, e) for e in inbound])
    applied: list[int] = []
    real_apply = Store.apply

    async def slow_apply(self: Store, batch: Any) -> Any:
        applied.append(sum(len(v) for v in batch.values()))
        await asyncio.sleep(3.0)  # longer than reading and decoding 1,500 records
        return await real_apply(self, batch)

    monkeypatch.setattr(Store, "apply", slow_apply)
    settings = Settings.from_env(system.env)
    replay = replay_mod.Replay(settings, "events")
    store = Store(replay.settings, [replay.projection], schema=replay.shadow, durable=False)
    try:
        plan = await replay.plan(from_beginning=True)
        await replay._make_shadow()  # ready before the first record is read
        consumer = await replay._consumer()
        tps = [TopicPartition(system.topic(t), p) for t, p in plan.end]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        await replay._consume_until(store, plan.end)
    finally:
        await store.close()
        await replay.close()
    assert sum(applied) == n
    assert len(applied) == 2, applied
    assert applied[0] <= replay_mod.CHUNK
