"""``wastream replay``: rebuild one projection from its topics into a shadow schema
while the live one keeps serving, catch up with the live projector, then swap the
tables in one transaction.

The swap holds the same per-partition advisory locks as the live projector's batches
(``projections.store``), moves the live tables out and the shadow tables in, and
replaces the projection's rows of ``projection_offsets``; readers blocked on the
tables' locks for those milliseconds then see the rebuilt tables, never an empty or
half-built one. If the shadow ends behind the live projector (``--to``), the live
projector sees a gap at its next batch and seeks back (no record is skipped)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from projections import analytics
from projections.base import Msg, prepare, ts
from projections.migrations import connect, quote_ident
from projections.projector import CHUNK, to_msg
from projections.registry import by_name
from projections.store import TP, Store
from wastream.config import Settings
from wastream.config.kafka import client_args

# Records per shadow transaction at most (a batch grows while the database is busy).
BATCH_MAX = 20_000
# Connections building the shadow's deferred indexes at the same time.
INDEX_BUILDERS = 2
# Bytes fetched per partition and request. 8 MiB (to wait less on the broker) delayed the
# first record by ~0.2 s (the broker read 8 MiB per partition before answering) and was
# no faster after it: aiokafka's default, 1 MiB (bench.projections, decision 0018).
FETCH_BYTES = 1024 * 1024

_OFFSET = re.compile(r"^(?P<topic>[A-Za-z0-9._-]+):(?P<part>\d+):(?P<offset>\d+)$")


class ReplayError(ValueError):
    """A replay request that cannot run (bad arguments, unknown projection)."""

    transient = False


def parse_offsets(specs: Sequence[str], settings: Settings,
                  topics: Sequence[str]) -> dict[TP, int]:
    """``TOPIC:PARTITION:OFFSET`` items (logical or broker-side topic names) as
    {(logical topic, partition): offset}; topics outside ``topics`` are refused."""
    out: dict[TP, int] = {}
    for spec in specs:
        m = _OFFSET.match(spec)
        if not m:
            raise ReplayError(f"not TOPIC:PARTITION:OFFSET: {spec!r}")
        topic = m["topic"]
        logical = next((t for t in topics if topic in (t, settings.topic(t))), None)
        if logical is None:
            raise ReplayError(f"{topic} is not read by this projection ({', '.join(topics)})")
        out[(logical, int(m["part"]))] = int(m["offset"])
    return out


@dataclass
class Plan:
    """Where a replay starts and stops on every partition it reads."""

    projection: str
    live_schema: str
    shadow_schema: str
    start: dict[TP, int] = field(default_factory=dict)
    end: dict[TP, int] = field(default_factory=dict)
    bounded: bool = False  # --to given: do not chase the live projector past it

    @property
    def total(self) -> int:
        return sum(max(0, self.end[tp] - self.start.get(tp, 0)) for tp in self.end)

    def describe(self) -> str:
        lines = [f"replay projection {self.projection!r}: build in schema {self.shadow_schema}, "
                 f"then swap into {self.live_schema}"
                 + ("" if self.bounded else " after catching up with the live projector")]
        for tp in sorted(self.end):
            lines.append(f"  {tp[0]}[{tp[1]}]: offsets {self.start.get(tp, 0)} .. {self.end[tp]}"
                         f" ({max(0, self.end[tp] - self.start.get(tp, 0))} records)")
        lines.append(f"  total {self.total} records")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The plan for ``--json``: one entry per partition, as ``describe`` lists them."""
        return {
            "projection": self.projection, "live_schema": self.live_schema,
            "shadow_schema": self.shadow_schema, "bounded": self.bounded,
            "partitions": [{"topic": tp[0], "partition": tp[1],
                            "start": self.start.get(tp, 0), "end": self.end[tp],
                            "records": max(0, self.end[tp] - self.start.get(tp, 0))}
                           for tp in sorted(self.end)],
            "total": self.total,
        }


def shadow_name(live: str, projection: str) -> str:
    return f"{live}__rp_{projection}"[:63]


class Progress:
    """A one-line progress bar with rate and time left, on stderr."""

    def __init__(self, total: int, out: TextIO | None = None) -> None:
        self.total, self.done, self.t0, self.last = total, 0, time.monotonic(), 0.0
        self.out: TextIO = out or sys.stderr

    def add(self, n: int, force: bool = False) -> None:
        self.done += n
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        rate = self.done / max(now - self.t0, 1e-6)
        left = max(0, self.total - self.done)
        pct = 100.0 * self.done / self.total if self.total else 100.0
        bar = "#" * int(pct / 5)
        print(f"\r[{bar:<20}] {self.done}/{self.total} {pct:5.1f}% {rate:,.0f} rec/s "
              f"ETA {left / rate if rate else 0:.1f}s", end="", file=self.out, flush=True)

    @property
    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.t0, 1e-6)


class Replay:
    """One replay of one projection (see the module docstring)."""

    def __init__(self, settings: Settings, projection: str, *, shadow: str | None = None) -> None:
        try:
            (self.projection,) = by_name(settings, [projection])
        except KeyError as exc:
            raise ReplayError(f"unknown projection {projection!r}") from exc
        # As the schemas' owner throughout: a replay creates, swaps and drops tables. The
        # tables it swaps in carry the owner's default grants to the services' role.
        self.settings = settings.as_owner()
        self.shadow = shadow or shadow_name(settings.db_schema, projection)
        self.consumer: AIOKafkaConsumer | None = None
        self.progress: Progress | None = None
        # Seconds of each phase of the last build and swap, for benchmarks and the log:
        # shadow (made while loading), load, indexes, swap.
        self.timings: dict[str, float] = {}

    async def _consumer(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            self.consumer = AIOKafkaConsumer(
                **client_args(self.settings.kafka), group_id=None,
                enable_auto_commit=False, auto_offset_reset="earliest",
                isolation_level="read_committed", max_poll_records=5000,
                max_partition_fetch_bytes=FETCH_BYTES)
            await self.consumer.start()
        return self.consumer

    async def plan(self, *, from_beginning: bool = False, from_time: str | None = None,
                   from_offsets: Sequence[str] = (), to: Sequence[str] = ()) -> Plan:
        """Resolve the start and end offsets of every partition the projection reads."""
        c = await self._consumer()
        tps: list[TopicPartition] = []
        for t in self.projection.topics:
            parts = c.partitions_for_topic(self.settings.topic(t))
            if not parts:
                await c._client.force_metadata_update()  # topic metadata not fetched yet
                parts = c.partitions_for_topic(self.settings.topic(t)) or set()
            tps += [TopicPartition(self.settings.topic(t), p) for p in sorted(parts)]
        logical = {self.settings.topic(t): t for t in self.projection.topics}
        key = {tp: (logical[tp.topic], tp.partition) for tp in tps}
        begin = {key[tp]: o for tp, o in (await c.beginning_offsets(tps)).items()}
        end = {key[tp]: o for tp, o in (await c.end_offsets(tps)).items()}
        start = dict(begin)
        if from_time:
            at = ts(from_time)
            if at is None:
                raise ReplayError(f"--from-time is not ISO 8601: {from_time!r}")
            start.update(await self._offsets_at(c, tps, key, at, end))
        elif from_offsets:
            start.update(parse_offsets(from_offsets, self.settings, self.projection.topics))
        elif not from_beginning:
            raise ReplayError("one of --from-beginning, --from-time, --from-offset is required")
        bounded = bool(to)
        if to:
            if len(to) == 1 and _OFFSET.match(to[0]) is None:
                at = ts(to[0])
                if at is None:
                    raise ReplayError(f"--to is neither ISO 8601 nor offsets: {to[0]!r}")
                end = await self._offsets_at(c, tps, key, at, end)
            else:
                # never past the end of a partition: there is nothing to wait for there
                wanted = parse_offsets(to, self.settings, self.projection.topics)
                end.update({tp: min(o, end[tp]) for tp, o in wanted.items() if tp in end})
        return Plan(self.projection.name, self.settings.db_schema, self.shadow,
                    {tp: max(o, begin[tp]) for tp, o in start.items()}, end, bounded)

    @staticmethod
    async def _offsets_at(c: AIOKafkaConsumer, tps: list[TopicPartition],
                          key: dict[TopicPartition, TP], at: datetime,
                          end: dict[TP, int]) -> dict[TP, int]:
        found = await c.offsets_for_times({tp: int(at.timestamp() * 1000) for tp in tps})
        return {key[tp]: (found[tp].offset if found.get(tp) else end[key[tp]]) for tp in tps}

    async def build(self, plan: Plan) -> Store:
        """Fresh shadow schema, then every record of the plan projected into it.

        The shadow is made (``_make_shadow``) while the reader already fetches and
        decodes the first records: the database's DDL and Python's decoding overlap
        instead of running one after the other."""
        # Not durable: the shadow is rebuilt from scratch if anything fails, and the swap's
        # (synchronous) commit flushes the WAL of every earlier commit.
        store = Store(self.settings, [self.projection], schema=self.shadow, durable=False)
        c = await self._consumer()
        tps = [TopicPartition(self.settings.topic(t), p) for t, p in plan.end]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, plan.start.get((self._logical(tp.topic), tp.partition), 0))
        self.progress = Progress(plan.total)
        self.timings = {}
        t0 = time.monotonic()
        shadow = asyncio.create_task(self._make_shadow())
        try:
            await self._consume_until(store, plan.end, ready=shadow)
            deferred = await shadow
        finally:
            if not shadow.done():
                shadow.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await shadow
        t1 = time.monotonic()
        await self._restore_indexes(deferred)
        self.timings.update(load=t1 - t0, indexes=time.monotonic() - t1)
        return store

    async def _make_shadow(self) -> list[str]:
        """A fresh shadow schema holding the projection's tables, ``projection_offsets``
        and ``projection_errors``, each shaped as the live one (``LIKE … INCLUDING ALL``:
        columns in the same order, defaults, checks) with the live constraints and unique
        indexes under the same names; returns the DDL of the plain indexes, built after
        the load (bulk loading then indexing once is much cheaper than maintaining them
        row by row). Copying the live tables' shape instead of running every migration
        into the shadow (all read models' tables, the views, the grants, under the
        migrations' global lock) took the shadow from 0.25-0.8 s to a few DDL statements."""
        t0 = time.monotonic()
        live, shadow = quote_ident(self.settings.db_schema), quote_ident(self.shadow)
        tables = [*self.projection.tables, "projection_offsets", "projection_errors"]
        names = [f"{live}.{quote_ident(t)}" for t in tables]
        conn = await connect(self.settings)
        deferred: list[str] = []
        try:
            async with conn.transaction():
                constraints = await conn.fetch(
                    "SELECT t.relname AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def "
                    "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                    "WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('p', 'u', 'x') "
                    "ORDER BY c.conrelid, c.contype, c.conname", names)
                # pg_get_indexdef names the live table: "CREATE [UNIQUE] INDEX n ON s.t
                # USING btree (…)"; the part from USING on is re-aimed at the shadow's.
                indexes = await conn.fetch(
                    "SELECT ic.relname AS name, t.relname AS tbl, i.indisunique AS uniq, "
                    "pg_get_indexdef(i.indexrelid) AS ddl FROM pg_index i "
                    "JOIN pg_class ic ON ic.oid = i.indexrelid "
                    "JOIN pg_class t ON t.oid = i.indrelid "
                    "WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
                    "AND c.conrelid = i.indrelid) ORDER BY i.indexrelid", names)
                # Not durable, as the shadow's batches (see ``build``).
                await conn.execute("SET LOCAL synchronous_commit = off")
                await conn.execute(f"DROP SCHEMA IF EXISTS {shadow} CASCADE")
                await conn.execute(f"CREATE SCHEMA {shadow}")
                for table in tables:
                    await conn.execute(f"CREATE TABLE {shadow}.{quote_ident(table)} (LIKE "
                                       f"{live}.{quote_ident(table)} INCLUDING ALL "
                                       "EXCLUDING INDEXES)")
                for c in constraints:
                    await conn.execute(f"ALTER TABLE {shadow}.{quote_ident(c['tbl'])} ADD "
                                       f"CONSTRAINT {quote_ident(c['conname'])} {c['def']}")
                for i in indexes:
                    ddl = (f"CREATE {'UNIQUE ' if i['uniq'] else ''}INDEX "
                           f"{quote_ident(i['name'])} ON {shadow}.{quote_ident(i['tbl'])} USING "
                           + i["ddl"].split(" USING ", 1)[1])
                    if i["uniq"]:  # the upserts need them while loading
                        await conn.execute(ddl)
                    else:
                        deferred.append(ddl)
        finally:
            await conn.close()
        self.timings["shadow"] = time.monotonic() - t0
        return deferred

    def _logical(self, physical: str) -> str:
        return next(t for t in self.projection.topics if self.settings.topic(t) == physical)

    def _ktp(self, tp: TP) -> TopicPartition:
        return TopicPartition(self.settings.topic(tp[0]), tp[1])

    async def _consume_until(self, store: Store, end: dict[TP, int],
                             ready: asyncio.Future[Any] | None = None) -> None:
        """Project records until every partition's position reaches ``end``. A reader
        task fetches and decodes while the database writes; it hands a batch over when the
        writer waits for one and otherwise keeps growing it (up to ``BATCH_MAX``), so
        batches are as large as the database is slow and transactions are few (a batch
        handed over while the writer was busy sat in the queue, and a 200-record
        transaction cost as much as a 10,000-record one's overhead). The writer starts
        once ``ready`` is done (the shadow made); the reader does not wait."""
        c = await self._consumer()
        pending = {tp: o for tp, o in end.items() if await c.position(self._ktp(tp)) < o}
        queue: asyncio.Queue[dict[TP, list[Msg]] | None] = asyncio.Queue(maxsize=1)
        writer_idle = asyncio.Event()

        async def read() -> None:
            batch: dict[TP, list[Msg]] = {}
            count = 0
            while pending:
                # While the shadow is being made, grow the first batch instead.
                writer_free = (writer_idle.is_set() and queue.empty()
                               and (ready is None or ready.done()))
                if count and (writer_free or count >= BATCH_MAX):
                    writer_idle.clear()  # here: the writer wakes a few loop turns later
                    await queue.put(batch)
                    batch, count = {}, 0
                got = await c.getmany(*[self._ktp(tp) for tp in pending],
                                      timeout_ms=50 if count else 500,
                                      max_records=min(CHUNK, BATCH_MAX - count))
                fresh: list[Msg] = []
                for ktp, recs in got.items():
                    tp = (self._logical(ktp.topic), ktp.partition)
                    if tp not in pending or not recs:
                        continue
                    keep = [to_msg(tp[0], r) for r in recs if r.offset < pending[tp]]
                    if keep:
                        batch.setdefault(tp, []).extend(keep)
                        fresh += keep
                    if recs[-1].offset >= pending[tp] - 1:
                        # Done with it: put the position back at the end, so that the
                        # records fetched beyond it are read again by a later catch-up.
                        c.seek(ktp, pending.pop(tp))
                for tp in list(pending):
                    if await c.position(self._ktp(tp)) >= pending[tp]:
                        del pending[tp]
                if fresh:
                    prepare([self.projection], fresh)
                    count += len(fresh)
                await asyncio.sleep(0)  # let the writer's round trips through (see CHUNK)
            if count:
                await queue.put(batch)
            await queue.put(None)

        reader = asyncio.create_task(read())
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                writer_idle.set()
                await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    reader.result()  # re-raise what stopped the reader
                    break
                batch = getter.result()
                if batch is None:
                    break
                if ready is not None and not ready.done():
                    await ready
                result = await store.apply(batch)
                if result.seeks:  # the shadow is fed in order: a gap here is a bug
                    raise ReplayError(f"replay would skip records at {result.seeks}")
                if self.progress:
                    self.progress.add(sum(len(v) for v in batch.values()))
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _restore_indexes(self, ddl: list[str]) -> None:
        """Build the deferred indexes, a few at a time: CREATE INDEX takes a SHARE lock,
        which does not block another CREATE INDEX on the same table, and each build is
        one backend's CPU."""
        todo = list(ddl)

        async def builder() -> None:
            conn = await connect(self.settings, self.shadow)
            try:
                while todo:
                    await conn.execute(todo.pop(0))
            finally:
                await conn.close()

        await asyncio.gather(*(builder() for _ in range(min(INDEX_BUILDERS, len(todo)))))

    async def swap(self, plan: Plan, shadow_store: Store) -> None:
        """Catch up with the live projector under its partition locks, then swap."""
        t0 = time.monotonic()
        live, shadow = quote_ident(self.settings.db_schema), quote_ident(self.shadow)
        retired = quote_ident(f"{self.settings.db_schema}__retired"[:63])
        conn = await connect(self.settings)
        try:
            if not plan.bounded:  # catch up without locks first, so the locked part is short
                for _ in range(3):
                    live_now = await self.live_offsets_on(conn)
                    target = {tp: max(o, plan.end.get(tp, 0)) for tp, o in live_now.items()}
                    await self._consume_until(shadow_store, target)
            async with conn.transaction():
                for t, p in sorted(plan.end):  # the live projector's lock order
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                       f"{self.settings.db_schema}:{self.settings.topic(t)}:{p}")
                if not plan.bounded:
                    stored = {tp: o for tp, o in (await self.live_offsets_on(conn)).items()}
                    await self._consume_until(shadow_store, stored)
                await conn.execute(f"DROP SCHEMA IF EXISTS {retired} CASCADE")
                await conn.execute(f"CREATE SCHEMA {retired}")
                await analytics.drop_views(conn)
                for table in self.projection.tables:
                    await conn.execute(f"ALTER TABLE {live}.{table} SET SCHEMA {retired}")
                    await conn.execute(f"ALTER TABLE {shadow}.{table} SET SCHEMA {live}")
                await conn.execute(f"DELETE FROM {live}.projection_offsets WHERE projection = $1",
                                   self.projection.name)
                await conn.execute(f"DELETE FROM {live}.projection_errors WHERE projection = $1",
                                   self.projection.name)
                await conn.execute(
                    f"INSERT INTO {live}.projection_errors "
                    f"SELECT * FROM {shadow}.projection_errors WHERE projection = $1",
                    self.projection.name)
                await conn.execute(
                    f"INSERT INTO {live}.projection_offsets "
                    f"SELECT * FROM {shadow}.projection_offsets WHERE projection = $1",
                    self.projection.name)
                await analytics.create_views(conn)
                await conn.execute(f"DROP SCHEMA {retired} CASCADE")
                await conn.execute(f"DROP SCHEMA {shadow} CASCADE")
            await analytics.grant(conn, self.settings.db_schema)
        finally:
            await conn.close()
        self.timings["swap"] = time.monotonic() - t0

    async def live_offsets_on(self, conn: asyncpg.Connection) -> dict[TP, int]:
        rows = await conn.fetch(
            'SELECT topic, partition, "offset" FROM projection_offsets WHERE projection = $1',
            self.projection.name)
        logical = {self.settings.topic(t): t for t in self.projection.topics}
        return {(logical[r["topic"]], r["partition"]): r["offset"] for r in rows
                if r["topic"] in logical}

    async def close(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None


async def run(settings: Settings, projection: str, *, dry_run: bool = False,
              from_beginning: bool = False, from_time: str | None = None,
              from_offsets: Sequence[str] = (), to: Sequence[str] = (),
              as_json: bool = False) -> Plan:
    """Plan, and unless ``dry_run``: build, catch up, swap. Returns the plan."""
    replay = Replay(settings, projection)
    try:
        plan = await replay.plan(from_beginning=from_beginning, from_time=from_time,
                                 from_offsets=from_offsets, to=to)
        if as_json:
            from wastream.output import emit_json

            emit_json(plan.as_dict())
        else:
            print(plan.describe())
        if dry_run:
            return plan
        store = await replay.build(plan)
        await replay.swap(plan, store)
        await store.close()
        assert replay.progress is not None
        replay.progress.add(0, force=True)
        print(f"\nswapped {projection}: {replay.progress.done} records at "
              f"{replay.progress.rate:,.0f} rec/s", file=sys.stderr)
        return plan
    finally:
        await replay.close()


def main(a: argparse.Namespace) -> int:
    """Entry point of ``wastream replay``."""
    try:
        asyncio.run(run(Settings.from_env(), a.projection, dry_run=a.dry_run,
                        from_beginning=a.from_beginning, from_time=a.from_time,
                        from_offsets=a.from_offset or (), to=a.to or (), as_json=a.json))
    except ReplayError as exc:
        print(f"wastream replay: {exc}", file=sys.stderr)
        return 2
    return 0
