"""The projector's side of PostgreSQL: one transaction per batch holding the rows of
every projection AND their offsets, so that a crash at any point leaves either both or
neither (exactly-once results over an at-least-once consumer).

The stored offsets are the truth, not the consumer's position: inside the transaction
the (topic, partition) rows are locked and re-read, records below the stored offset
are skipped (another instance, a zombie after a rebalance, or a replay swap already
applied them) and a gap above it asks the consumer to seek back."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from projections.base import Msg, Projection
from projections.metrics import ERRORS
from projections.migrations import connect
from schemas import headers as h
from streams.failure.errors import DB_CONNECTION_ERRORS
from wastream.config import Settings
from wastream.observability import logs

log = logging.getLogger(__name__)

TP = tuple[str, int]  # (logical topic, partition)


def record_ids(m: Msg) -> tuple[str | None, str | None]:
    """The correlation id (header) and event id of a record, for its log lines."""
    return h.from_headers(m.headers).get(h.CORRELATION_ID), logs.id_of(m.value)

# Errors that mean "the database is away", to be waited out on a new connection, never
# skipped: the sender's classification (streams.failure.errors), one list for both.
CONNECTION_ERRORS = DB_CONNECTION_ERRORS


# Errors after which the same transaction may simply succeed when run again.
RERUN_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.InvalidCachedStatementError, asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)

# Errors that mean "this data cannot be applied" (a value PostgreSQL refuses, or a bug
# in a projection): isolated record by record, never retried forever.
RECORD_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError, ValueError, TypeError, KeyError, AttributeError, IndexError,
)


def about_the_data(exc: BaseException) -> bool:
    """Whether an error is about the records (SQLSTATE class 22 data exception or 23
    integrity violation, or a Python error in a projection), as opposed to a condition
    of the database that passes (resources, shutdown, read-only, schema not migrated…),
    which is waited out rather than turned into skipped records."""
    if isinstance(exc, asyncpg.PostgresError):
        return str(getattr(exc, "sqlstate", "") or "")[:2] in ("22", "23")
    return True


def describe(exc: BaseException) -> str:
    """``Class: message`` of an error, for logs and ``projection_errors``, without what
    PostgreSQL adds about the row: an asyncpg error's DETAIL (``Key (wa_id)=(2507...)
    already exists``) and HINT hold row contents, i.e. PII, so only the message, the
    SQLSTATE and the names of the constraint, table and column are kept."""
    if isinstance(exc, asyncpg.PostgresError):
        parts = [f"SQLSTATE {exc.sqlstate}"] if getattr(exc, "sqlstate", None) else []
        for label, attr in (("constraint", "constraint_name"), ("table", "table_name"),
                            ("column", "column_name")):
            value = getattr(exc, attr, None)
            if value:
                parts.append(f"{label} {value}")
        message = getattr(exc, "message", None) or (exc.args[0] if exc.args else "")
        where = f" ({', '.join(parts)})" if parts else ""
        return f"{type(exc).__name__}: {message}{where}"
    return f"{type(exc).__name__}: {exc}"


class StoreUnavailable(Exception):
    """PostgreSQL could not be reached or dropped the connection (transient)."""

    transient = True


@dataclass
class BatchResult:
    """What a batch did: rows per projection and the partitions to seek back."""

    applied: dict[str, int] = field(default_factory=dict)
    seeks: dict[TP, int] = field(default_factory=dict)


class Store:
    """Applies batches of records to a set of projections in one schema."""

    def __init__(self, settings: Settings, projections: Sequence[Projection],
                 schema: str | None = None, physical: Mapping[str, str] | None = None,
                 *, durable: bool = True) -> None:
        """``durable=False`` commits without waiting for the WAL flush (a replay's shadow:
        thrown away if anything fails, and made durable by the swap's own commit)."""
        self.settings = settings
        self.durable = durable
        self.projections = list(projections)
        self.schema = schema or settings.db_schema
        # logical topic -> broker-side name (what projection_offsets records)
        self.physical = dict(physical) if physical else {}
        self.conn: asyncpg.Connection | None = None
        self._gap_sought: dict[TP, int] = {}

    def topic_name(self, logical: str) -> str:
        return self.physical.get(logical) or self.settings.topic(logical)

    async def connect(self) -> asyncpg.Connection:
        if self.conn is None or self.conn.is_closed():
            try:
                self.conn = await connect(self.settings, self.schema)
                if not self.durable:
                    await self.conn.execute("SET synchronous_commit = off")
            except CONNECTION_ERRORS as exc:
                raise StoreUnavailable(describe(exc)) from exc
        return self.conn

    async def close(self) -> None:
        if self.conn is not None and not self.conn.is_closed():
            await self.conn.close()
        self.conn = None

    def lost(self, exc: BaseException) -> StoreUnavailable:
        """The connection failed with ``exc`` (one of ``CONNECTION_ERRORS``): drop it
        without a round trip (the server may be gone, or the protocol stuck consuming
        its last error), so that the next call connects afresh."""
        if self.conn is not None:
            self.conn.terminate()
        self.conn = None
        return StoreUnavailable(describe(exc))

    async def offsets(self) -> dict[tuple[str, str, int], int]:
        """Stored next offsets: (projection, logical topic, partition) -> offset."""
        conn = await self.connect()
        names = [p.name for p in self.projections]
        back = {self.topic_name(t): t for p in self.projections for t in p.topics}
        try:
            rows = await conn.fetch('SELECT projection, topic, partition, "offset" '
                                    "FROM projection_offsets WHERE projection = ANY($1::text[])",
                                    names)
        except CONNECTION_ERRORS as exc:
            raise self.lost(exc) from exc
        return {(r["projection"], back[r["topic"]], r["partition"]): r["offset"]
                for r in rows if r["topic"] in back}

    async def start_positions(self, tps: Sequence[TP]) -> dict[TP, int | None]:
        """Where the consumer should start on each partition: the lowest stored offset of
        the projections reading it, or None (from the beginning) when one has none."""
        stored = await self.offsets()
        out: dict[TP, int | None] = {}
        for topic, part in tps:
            vals = [stored.get((p.name, topic, part))
                    for p in self.projections if topic in p.topics]
            out[(topic, part)] = None if (not vals or None in vals) else min(
                v for v in vals if v is not None)
        return out

    async def apply(self, batch: Mapping[TP, Sequence[Msg]]) -> BatchResult:
        """Apply one batch (records of each partition in offset order) in one transaction."""
        for attempt in range(3):
            conn = await self.connect()
            try:
                async with conn.transaction():
                    return await self._apply(conn, batch)
            except CONNECTION_ERRORS as exc:
                raise self.lost(exc) from exc
            except RERUN_ERRORS as exc:
                # A replay swapped a table under a prepared statement (asyncpg dropped
                # its cache), or a deadlock/serialisation failure: simply run it again.
                log.info("re-running the batch after %s", type(exc).__name__)
                if attempt == 2:
                    raise
            except RECORD_ERRORS as exc:
                if not about_the_data(exc):
                    raise StoreUnavailable(describe(exc)) from exc
                log.warning("batch refused (%s); applying it record by record",
                            type(exc).__name__)
                # PostgreSQL's message may quote a value (a phone number): DEBUG only.
                log.debug("batch refused: %s", describe(exc))
                return await self._one_by_one(batch)
        raise AssertionError("unreachable")

    async def _one_by_one(self, batch: Mapping[TP, Sequence[Msg]]) -> BatchResult:
        """The slow path after a refused batch: each record and projection in its own
        transaction; what still fails goes to ``projection_errors`` and is skipped."""
        result = BatchResult()
        conn = await self.connect()
        for tp in sorted(batch):
            for m in batch[tp]:
                for p in self.projections:
                    if tp[0] not in p.topics:
                        continue
                    try:
                        try:
                            async with conn.transaction():
                                one = await self._apply(conn, {tp: [m]}, [p])
                        except RERUN_ERRORS:
                            async with conn.transaction():
                                one = await self._apply(conn, {tp: [m]}, [p])
                    except CONNECTION_ERRORS as exc:
                        raise self.lost(exc) from exc
                    except RECORD_ERRORS as exc:
                        if not about_the_data(exc):
                            raise StoreUnavailable(describe(exc)) from exc
                        await self._record_error(conn, p, m, exc)
                        continue
                    if one.seeks:  # nothing after a gap may be applied
                        result.seeks.update(one.seeks)
                        return result
                    for name, n in one.applied.items():
                        result.applied[name] = result.applied.get(name, 0) + n
        return result

    async def _record_error(self, conn: asyncpg.Connection, p: Projection, m: Msg,
                            exc: BaseException) -> None:
        with logs.bound(*record_ids(m)):
            log.error("projection %s skips %s[%d]@%d: %s (kept in projection_errors)",
                      p.name, m.topic, m.partition, m.offset, type(exc).__name__)
            # The message may quote the record's values (a phone number): DEBUG only.
            log.debug("projection %s: %s", p.name, describe(exc))
        ERRORS.labels(p.name).inc()
        topic = self.topic_name(m.topic)
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                   f"{self.schema}:{topic}:{m.partition}")
                await conn.execute(
                    'INSERT INTO projection_errors (projection, topic, partition, "offset", '
                    "error, record_key, record_value) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                    "ON CONFLICT DO NOTHING", p.name, topic, m.partition, m.offset,
                    describe(exc)[:2000], m.key, m.value)
                await conn.execute(
                    'INSERT INTO projection_offsets (projection, topic, partition, "offset") '
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (projection, topic, partition) DO UPDATE "
                    'SET "offset" = greatest(projection_offsets."offset", EXCLUDED."offset"), '
                    "updated_at = now()", p.name, topic, m.partition, m.offset + 1)
        except CONNECTION_ERRORS as err:
            raise self.lost(err) from err

    async def skip_deleted(self, tp: TP, start: int, end: int) -> int:
        """Records ``[start, end)`` of the partition are gone from the log (retention
        deleted them before they were projected): record the range in
        ``projection_errors`` (one row per projection that had not read it, at the first
        offset it missed, without key or value) and move those projections' offsets to
        ``end``, in one transaction. Returns how many projections skipped it."""
        conn = await self.connect()
        topic = self.topic_name(tp[0])
        skipped = 0
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                   f"{self.schema}:{topic}:{tp[1]}")
                stored = await self._offsets_locked(conn)
                for p in self.projections:
                    if tp[0] not in p.topics:
                        continue
                    first = stored.get((p.name, *tp), start)
                    if first >= end:
                        continue
                    await conn.execute(
                        'INSERT INTO projection_errors (projection, topic, partition, "offset", '
                        "error) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                        p.name, topic, tp[1], first,
                        f"RecordsDeleted: offsets {first}..{end - 1} were deleted from the log "
                        "(retention) before this projection read them; skipped")
                    await conn.execute(
                        'INSERT INTO projection_offsets (projection, topic, partition, "offset") '
                        "VALUES ($1, $2, $3, $4) ON CONFLICT (projection, topic, partition) "
                        'DO UPDATE SET "offset" = greatest(projection_offsets."offset", '
                        'EXCLUDED."offset"), updated_at = now()', p.name, topic, tp[1], end)
                    skipped += 1
        except CONNECTION_ERRORS as exc:
            raise self.lost(exc) from exc
        self._gap_sought.pop(tp, None)
        return skipped

    async def _apply(self, conn: asyncpg.Connection, batch: Mapping[TP, Sequence[Msg]],
                     only: Sequence[Projection] | None = None) -> BatchResult:
        result = BatchResult()
        projections = self.projections if only is None else list(only)
        tps = sorted(tp for tp, msgs in batch.items() if msgs)
        # Serialise with other writers of the same partitions (instances, replay swap);
        # sorted so that two writers never deadlock. One round trip: a volatile function
        # in the select list is evaluated after the ORDER BY, so in the array's order.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
            "FROM unnest($1::text[]) WITH ORDINALITY AS t(k, i) ORDER BY i",
            [f"{self.schema}:{self.topic_name(topic)}:{part}" for topic, part in tps])
        stored = await self._offsets_locked(conn)
        todo: dict[str, list[Msg]] = {p.name: [] for p in projections}
        new_offsets: list[tuple[str, str, int, int]] = []
        for tp in tps:
            msgs = batch[tp]
            readers = [p for p in projections if tp[0] in p.topics]
            gap = [stored[(p.name, *tp)] for p in readers
                   if (p.name, *tp) in stored and msgs[0].offset > stored[(p.name, *tp)]]
            if gap and self._gap_sought.get(tp) != min(gap):
                # Records between the stored offset and this batch were never applied
                # (e.g. a replay swapped in an older shadow): go back for them.
                self._gap_sought[tp] = min(gap)
                result.seeks[tp] = min(gap)
                continue
            self._gap_sought.pop(tp, None)
            for p in readers:
                start = stored.get((p.name, *tp))
                fresh = (msgs if start is None or msgs[0].offset >= start
                         else [m for m in msgs if m.offset >= start])
                if fresh:
                    todo[p.name].extend(fresh)
                    new_offsets.append((p.name, self.topic_name(tp[0]), tp[1], msgs[-1].offset + 1))
        for p in projections:
            if todo[p.name]:
                await p.apply(conn, todo[p.name])
                result.applied[p.name] = len(todo[p.name])
        if new_offsets:
            await conn.executemany(
                'INSERT INTO projection_offsets (projection, topic, partition, "offset") '
                "VALUES ($1, $2, $3, $4) ON CONFLICT (projection, topic, partition) DO UPDATE "
                'SET "offset" = EXCLUDED."offset", updated_at = now()', new_offsets)
        return result

    async def _offsets_locked(self, conn: asyncpg.Connection) -> dict[tuple[str, str, int], int]:
        back = {self.topic_name(t): t for p in self.projections for t in p.topics}
        rows = await conn.fetch('SELECT projection, topic, partition, "offset" '
                                "FROM projection_offsets WHERE projection = ANY($1::text[])",
                                [p.name for p in self.projections])
        return {(r["projection"], back[r["topic"]], r["partition"]): r["offset"]
                for r in rows if r["topic"] in back}
