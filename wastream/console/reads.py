"""The SQL behind each page: reads of the projections' tables and analytics views only.

Every query is bounded (a time window, a LIMIT, or a key with an index: migration 0013
adds the ones the pages need), so a page costs the same at 100 or 100,000 conversations.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

LIST_LIMIT = 100
DLQ_LIMIT = 200
WINDOW_MIN = 60


@dataclass
class Hasher:
    """The analytics views' ``user_hash`` (HMAC-SHA256 of the wa_id keyed with the
    ``analytics_key`` row, hex), computed here so that viewers never see a number."""

    key: bytes

    @classmethod
    async def load(cls, conn: asyncpg.Connection) -> Hasher:
        key = await conn.fetchval("SELECT key FROM analytics_key WHERE id = 1")
        return cls(str(key or "").encode())

    def __call__(self, wa_id: str) -> str:
        return hmac.new(self.key, wa_id.encode(), hashlib.sha256).hexdigest()


async def remember_hashes(conn: asyncpg.Connection, hasher: Hasher, wa_ids: list[str]) -> None:
    """Record the hash of every wa_id a page links to (the masked links resolve by it)."""
    if wa_ids:
        await conn.execute(
            "INSERT INTO console_user_hashes (user_hash, wa_id) "
            "SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
            [hasher(w) for w in wa_ids], wa_ids)


async def wa_id_of(conn: asyncpg.Connection, ref: str) -> str | None:
    """The wa_id a conversation link names: a user_hash the console has shown."""
    wa_id = await conn.fetchval("SELECT wa_id FROM console_user_hashes WHERE user_hash = $1",
                                ref)
    return str(wa_id) if wa_id is not None else None


def _minutes(rows: list[asyncpg.Record], now: datetime) -> list[tuple[datetime, int]]:
    """Per-minute counts of the last WINDOW_MIN minutes, zeros filled in."""
    got = {r["m"]: int(r["n"]) for r in rows}
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=WINDOW_MIN - 1)
    return [(start + timedelta(minutes=i), got.get(start + timedelta(minutes=i), 0))
            for i in range(WINDOW_MIN)]


async def overview(conn: asyncpg.Connection) -> dict[str, Any]:
    """Events in, replies out and dead letters per minute over the last hour, and counts."""
    now = datetime.now(UTC)
    since = now.replace(second=0, microsecond=0) - timedelta(minutes=WINDOW_MIN - 1)
    per_min = "SELECT date_trunc('minute', {col}) AS m, count(*) AS n FROM {table} " \
              "WHERE {col} >= $1 {extra} GROUP BY 1"
    inbound = await conn.fetch(per_min.format(col="received_at", table="wa_events",
                                              extra="AND type LIKE 'message.%'"), since)
    replies = await conn.fetch(per_min.format(col="created_at", table="wa_outbound_messages",
                                              extra=""), since)
    dead = await conn.fetch(per_min.format(col="failed_at", table="wa_dead_letter_queue",
                                           extra=""), since)
    open_letters = await conn.fetchval(
        "SELECT count(*) FROM wa_dead_letter_queue WHERE NOT processed")
    failed_hour = await conn.fetchval(
        "SELECT count(*) FROM wa_outbound_messages WHERE failed_at >= now() - interval '1 hour'")
    return {"inbound": _minutes(inbound, now), "replies": _minutes(replies, now),
            "dead": _minutes(dead, now), "open_letters": int(open_letters or 0),
            "failed_hour": int(failed_hour or 0)}


CONV_COLUMNS = "c.wa_id, c.flow, c.step, c.language, c.at, c.seq"


async def conversations(conn: asyncpg.Connection, *, wa_id: str | None = None,
                        flow: str | None = None, step: str | None = None,
                        errored: bool = False) -> list[asyncpg.Record]:
    """Conversations by number, by flow (and step), by step alone, errored in the last
    hour, or the most recently active; newest first, at most LIST_LIMIT."""
    if wa_id:
        return list(await conn.fetch(f"SELECT {CONV_COLUMNS} FROM chat_state c WHERE c.wa_id = $1",
                                     wa_id))
    if errored:
        return list(await conn.fetch(
            f"SELECT {CONV_COLUMNS} FROM chat_state c WHERE c.wa_id IN ("
            " SELECT from_number FROM wa_dead_letter_queue"
            "  WHERE failed_at >= now() - interval '1 hour'"
            " UNION SELECT wa_id FROM wa_outbound_messages"
            "  WHERE failed_at >= now() - interval '1 hour')"
            f" ORDER BY c.at DESC NULLS LAST LIMIT {LIST_LIMIT}"))  # a few: no index needed
    if flow:
        if step:
            return list(await conn.fetch(
                f"SELECT {CONV_COLUMNS} FROM chat_state c WHERE c.flow = $1 AND c.step = $2 "
                f"AND c.at IS NOT NULL ORDER BY c.at DESC LIMIT {LIST_LIMIT}", flow, step))
        return list(await conn.fetch(
            f"SELECT {CONV_COLUMNS} FROM chat_state c WHERE c.flow = $1 "
            f"AND c.at IS NOT NULL ORDER BY c.at DESC LIMIT {LIST_LIMIT}", flow))
    if step:  # a step of any flow: the latest rows by chat_state_at_idx, filtered
        return list(await conn.fetch(
            f"SELECT {CONV_COLUMNS} FROM chat_state c WHERE c.step = $1 "
            f"AND c.at IS NOT NULL ORDER BY c.at DESC LIMIT {LIST_LIMIT}", step))
    # `at IS NOT NULL ... DESC`: chat_state_at_idx read backwards, no sort of the table
    return list(await conn.fetch(f"SELECT {CONV_COLUMNS} FROM chat_state c "
                                 f"WHERE c.at IS NOT NULL ORDER BY c.at DESC "
                                 f"LIMIT {LIST_LIMIT}"))


async def flows(conn: asyncpg.Connection) -> list[str]:
    """The flows conversations are in (for the search form), from the index alone."""
    rows = await conn.fetch(
        "WITH RECURSIVE f AS ((SELECT flow FROM chat_state ORDER BY flow LIMIT 1) UNION ALL "
        "SELECT (SELECT flow FROM chat_state WHERE flow > f.flow ORDER BY flow LIMIT 1) "
        "FROM f WHERE f.flow IS NOT NULL) SELECT flow FROM f WHERE flow IS NOT NULL")
    return [r["flow"] for r in rows]


DLQ_STATUS = {"open": "open", "redriven": "redrive", "discarded": "discard"}


def dlq_filters(q: dict[str, str]) -> tuple[str, list[Any]]:
    """WHERE clause and arguments of the dead-letter filters (type, error class, age,
    status), the same as ``wastream dlq list``'s."""
    where: list[str] = ["true"]
    args: list[Any] = []
    if q.get("type"):
        args.append(q["type"])
        where.append(f"coalesce(payload->>'type', CASE WHEN payload ? 'outbound_id' "
                     f"THEN 'outbound' END) = ${len(args)}")
    if q.get("error_class"):
        args.append(f"%{q['error_class']}%")
        where.append(f"error_class LIKE ${len(args)}")
    for name, op in (("min_age_s", "<="), ("max_age_s", ">=")):
        if q.get(name):
            args.append(datetime.now(UTC) - timedelta(seconds=float(q[name])))
            where.append(f"failed_at {op} ${len(args)}")
    if q.get("status"):
        args.append(DLQ_STATUS.get(q["status"], q["status"]))
        where.append(f"status = ${len(args)}")
    if q.get("wa_id"):
        args.append(q["wa_id"])
        where.append(f"from_number = ${len(args)}")
    return " AND ".join(where), args


DLQ_COLUMNS = ("message_id, from_number, coalesce(payload->>'type', CASE WHEN payload ? "
               "'outbound_id' THEN 'outbound' END, 'unknown') AS type, error_class, "
               "error_kind, error_message, retry_count, status, failed_at, decided_by, "
               "decision_reason, original_topic, payload->>'correlation_id' AS correlation_id")


async def dead_letters(conn: asyncpg.Connection, q: dict[str, str],
                       limit: int = DLQ_LIMIT) -> list[asyncpg.Record]:
    where, args = dlq_filters(q)
    return list(await conn.fetch(f"SELECT {DLQ_COLUMNS} FROM wa_dead_letter_queue "
                                 f"WHERE {where} ORDER BY failed_at DESC LIMIT {int(limit)}",
                                 *args))


async def analytics(conn: asyncpg.Connection, days: int = 14) -> dict[str, Any]:
    """The analytics views of the last ``days`` days (the funnels and delivery page)."""
    since = (datetime.now(UTC) - timedelta(days=days)).date()
    return {
        "funnel": await conn.fetch(
            "SELECT flow, stage, sum(runs)::bigint AS runs FROM analytics_workflow_funnel "
            "WHERE day >= $1 GROUP BY 1, 2 ORDER BY 1, 3 DESC", since),
        "delivery": await conn.fetch(
            "SELECT day, messages, sent, delivered, read, failed FROM analytics_delivery_funnel "
            "WHERE day >= $1 ORDER BY day", since),
        "dau": await conn.fetch(
            "SELECT day, sum(active_users)::bigint AS users FROM analytics_daily_active_users "
            "WHERE day >= $1 GROUP BY 1 ORDER BY 1", since),
        "latency": await conn.fetch(
            "SELECT workflow, sum(replies)::bigint AS replies, max(p50_ms) AS p50_ms, "
            "max(p95_ms) AS p95_ms, max(p99_ms) AS p99_ms FROM analytics_response_latency "
            "WHERE day >= $1 GROUP BY 1 ORDER BY 2 DESC", since),
    }


class Periodic:
    """A reading taken in the background every ``interval_s`` and shared by every page
    load: the overview (it refreshes itself in every open browser) and the analytics
    views (they aggregate whole tables, seconds at a million events). The page shows
    the reading, when it was taken and how long it took."""

    def __init__(self, pool: asyncpg.Pool,
                 read: Callable[[asyncpg.Connection], Awaitable[dict[str, Any]]],
                 interval_s: float) -> None:
        self.pool, self.read, self.interval_s = pool, read, interval_s
        self.data: dict[str, Any] | None = None
        self.at: datetime | None = None
        self.took_ms: float = 0.0
        self.error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> None:
        start = time.perf_counter()
        try:
            async with self.pool.acquire() as conn:
                self.data = await self.read(conn)
            self.error = None
        except (asyncpg.PostgresError, OSError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"[:200]
        self.at = datetime.now(UTC)
        self.took_ms = (time.perf_counter() - start) * 1000

    async def current(self) -> dict[str, Any]:
        """The latest reading; the first call waits for one."""
        if self.data is None:
            await self.refresh()
        return self.data or {}

    async def _loop(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval_s)
