"""The sender's durable ledger: each ``outbound_id`` is sent at most once, across
restarts and redeliveries.

A row in PostgreSQL (``wa_sender_ledger`` in ``WASTREAM_DB_SCHEMA``, created by migration
0004; a sender started before ``wastream migrate`` runs the ``prepare`` hook it was given,
which ``wastream worker`` sets to the migrations: streams/ does not import projections/)
is claimed (``sending``) BEFORE the POST and settled after it (``accepted`` with the
wamid, ``retry`` after a failure Meta answered or a timeout, ``failed`` when Meta refused it;
both of those may be sent again, by a retry or a redrive). A
claim found still ``sending`` belongs to a process that died mid-POST: whether Meta got
it is unknown, so it is NOT sent again (at most once) and is reported ``in_doubt``.
PostgreSQL rather than a Faust Table because the claim must be durable before the POST,
and a table's changelog write is buffered.

A PostgreSQL restart or failover is waited out, not reported: a statement that fails with
a connection error (:func:`streams.failure.errors.is_db_connection_error`) runs again on a
fresh connection. A claim waits up to ``WASTREAM_SENDER_LEDGER_OUTAGE_S`` and then raises
(transient: the retry tiers take the message); each claim carries its own token, so a
claim that committed but whose answer was lost is recognised as ours when it runs again.
A settle waits as long as it takes: after a POST Meta accepted, giving up would report a
delivered message failed, or leave it ``sending`` and so in doubt.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from streams.failure.errors import TransientError, is_db_connection_error
from wastream.config import Settings

log = logging.getLogger(__name__)

FRESH, DONE, IN_DOUBT = "fresh", "done", "in_doubt"

T = TypeVar("T")

#: Makes the ledger's table exist (``wastream worker`` passes the projector's migrations).
Prepare = Callable[[Settings], Awaitable[object]]


class LedgerMissing(TransientError):
    """The ledger's table does not exist and nothing was given to create it: the send
    waits in the retry tiers until ``wastream migrate`` has run."""


class Ledger:
    """Claims and settles outbound ids (see the module docstring)."""

    def __init__(self, settings: Settings, prepare: Prepare | None = None) -> None:
        self.settings = settings
        self.prepare = prepare
        self.schema = settings.db_schema
        self.owner = uuid.uuid4().hex  # this process: a 'sending' row of another is in doubt
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        """The pool, opened on first use. The sender's per-partition actors claim
        concurrently: one opens it, the others wait for that one (no second pool)."""
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                self._pool = await self._open()
        return self._pool

    async def _open(self) -> asyncpg.Pool:
        pool = await asyncpg.create_pool(self.settings.database_url, min_size=1, max_size=4)
        try:
            table = f'"{self.schema}".wa_sender_ledger'  # schema names are validated
            # The table, with the template column of migration 0008 (a worker newer
            # than the database's migrations would fail every settle without it).
            current = await pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                "table_schema = $1 AND table_name = 'wa_sender_ledger' "
                "AND column_name = 'template')", self.schema)
            if not current:
                if self.prepare is None:
                    raise LedgerMissing(f"{table} does not exist or is not migrated: run "
                                        "`wastream migrate`")
                log.warning("%s does not exist or is not migrated: applying the migrations "
                            "(run `wastream migrate` before starting workers)", table)
                await self.prepare(self.settings)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _run(self, what: str, op: Callable[[asyncpg.Pool], Awaitable[T]],
                   budget_s: float | None) -> T:
        """``op`` on the pool, again on fresh connections while PostgreSQL is away (up to
        ``budget_s``; None: until it is back). ``op`` must be safe to run twice."""
        loop = asyncio.get_running_loop()
        deadline = None if budget_s is None else loop.time() + budget_s
        delay, attempt = 0.05, 0
        while True:
            try:
                return await op(await self.pool())
            except Exception as exc:
                if not is_db_connection_error(exc):
                    raise
                attempt += 1
                if deadline is not None and loop.time() + delay > deadline:
                    raise
                log.warning("ledger %s: PostgreSQL unavailable (%s: %s); attempt %d, "
                            "trying again in %.2fs", what, type(exc).__name__, exc,
                            attempt, delay)
                if self._pool is not None:
                    # Connections the server closed may still look open to the pool (one
                    # that got the shutdown FATAL while idle hands out "cannot switch to
                    # state"): replace every connection made before this failure.
                    await self._pool.expire_connections()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def claim(self, outbound_id: str) -> tuple[str, str | None]:
        """FRESH: ours to send now; DONE: already accepted or failed (skip); IN_DOUBT: a
        dead process was sending it (do not send again). With the wamid when DONE."""
        token = f"{self.owner}:{uuid.uuid4().hex[:12]}"  # this claim, across its retries

        async def op(pool: asyncpg.Pool) -> tuple[str, str | None, str | None]:
            row = await pool.fetchrow(
                f'INSERT INTO "{self.schema}".wa_sender_ledger (outbound_id, status, owner) '
                "VALUES ($1, 'sending', $2) "
                "ON CONFLICT (outbound_id) DO UPDATE SET status = 'sending', owner = $2, "
                "attempts = wa_sender_ledger.attempts + 1, updated_at = now() "
                "WHERE wa_sender_ledger.status IN ('retry', 'failed') "
                "RETURNING status", outbound_id, token)
            if row is not None:
                return "sending", None, token
            cur = await pool.fetchrow(
                f'SELECT status, wamid, owner FROM "{self.schema}".wa_sender_ledger '
                "WHERE outbound_id = $1", outbound_id)
            return ("gone", None, None) if cur is None else (cur["status"], cur["wamid"],
                                                            cur["owner"])

        status, wamid, owner = await self._run("claim", op, self.settings.sender.ledger_outage_s)
        if status == "sending" and owner == token:
            return FRESH, None  # ours (a claim whose answer was lost is recognised here)
        if status == "sending":
            await self.settle(outbound_id, "in_doubt")
            return IN_DOUBT, None
        return DONE, wamid

    async def settle(self, outbound_id: str, status: str, wamid: str | None = None,
                     error: dict[str, Any] | None = None,
                     template: dict[str, Any] | None = None) -> None:
        """Record the outcome; waits out a PostgreSQL outage however long it lasts.
        ``template``: the template version of a free-form message Meta accepted, kept
        for a 131047 Meta reports later (:meth:`template_of`)."""
        import orjson

        async def op(pool: asyncpg.Pool) -> None:
            await pool.execute(
                f'UPDATE "{self.schema}".wa_sender_ledger SET status = $2, wamid = $3, '
                "error = $4::jsonb, template = $5::jsonb, updated_at = now() "
                "WHERE outbound_id = $1",
                outbound_id, status, wamid, orjson.dumps(error).decode() if error else None,
                orjson.dumps(template).decode() if template else None)

        await self._run(f"settle {status}", op, None)

    async def template_of(self, wamid: str) -> tuple[str, dict[str, Any]] | None:
        """(outbound_id, template version) of the free-form message Meta accepted as
        ``wamid``; None when there is none (no template, or already replaced)."""
        import orjson

        async def op(pool: asyncpg.Pool) -> Any:
            return await pool.fetchrow(
                f'SELECT outbound_id, template FROM "{self.schema}".wa_sender_ledger '
                "WHERE wamid = $1 AND template IS NOT NULL LIMIT 1", wamid)

        row = await self._run("template_of", op, self.settings.sender.ledger_outage_s)
        if row is None:
            return None
        return str(row["outbound_id"]), orjson.loads(row["template"])

    async def close(self) -> None:
        """Close the pool; a later call opens a new one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class MemoryLedger:
    """The ledger of the dry-run sender, which sends nothing and so needs no durability
    (and no database)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str | None]] = {}
        self.templates: dict[str, tuple[str, dict[str, Any]]] = {}  # wamid → (id, template)

    async def claim(self, outbound_id: str) -> tuple[str, str | None]:
        status, wamid = self.rows.get(outbound_id, ("retry", None))
        if status in ("retry", "failed"):
            self.rows[outbound_id] = ("sending", None)
            return FRESH, None
        return DONE, wamid

    async def settle(self, outbound_id: str, status: str, wamid: str | None = None,
                     error: dict[str, Any] | None = None,
                     template: dict[str, Any] | None = None) -> None:
        self.rows[outbound_id] = (status, wamid)
        for w in [w for w, (oid, _) in self.templates.items() if oid == outbound_id]:
            del self.templates[w]
        if template is not None and wamid is not None:
            self.templates[wamid] = (outbound_id, template)

    async def template_of(self, wamid: str) -> tuple[str, dict[str, Any]] | None:
        return self.templates.get(wamid)

    async def close(self) -> None:
        return None
