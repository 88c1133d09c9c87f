"""The sender's ledger on a real PostgreSQL: at most once per outbound id, and its table
owned by the migrations (a sender started before ``wastream migrate`` applies them)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from projections.migrations import migrate
from streams.delivery.ledger import DONE, FRESH, IN_DOUBT, Ledger, LedgerMissing
from streams.failure.errors import is_transient
from wastream.config import Settings


async def test_ledger_migrates_a_fresh_schema_and_sends_each_id_at_most_once(
        dev_stack: dict[str, str]) -> None:
    schema = f"tl{uuid.uuid4().hex[:10]}"
    settings = Settings.from_env({"DATABASE_URL": dev_stack["database_url"],
                                  "DATABASE_OWNER_URL": dev_stack["database_owner_url"],
                                  "KAFKA_BOOTSTRAP_SERVERS": dev_stack["bootstrap"],
                                  "WASTREAM_DB_SCHEMA": schema})
    conn = await asyncpg.connect(dev_stack["database_owner_url"])
    first, other = Ledger(settings, migrate), Ledger(settings, migrate)
    try:
        assert await conn.fetchval("SELECT to_regclass($1)", f"{schema}.wa_sender_ledger") is None
        assert await first.claim("out-1") == (FRESH, None)
        # the table came from the migrations, recorded like every other one
        assert await conn.fetchval(
            f'SELECT count(*) FROM "{schema}".schema_migrations '
            "WHERE name = '0004_sender_ledger'") == 1
        await first.settle("out-1", "accepted", wamid="wamid.A")
        assert await other.claim("out-1") == (DONE, "wamid.A")
        # claimed by a process that died mid-POST: another process must not send it
        assert await first.claim("out-2") == (FRESH, None)
        assert await other.claim("out-2") == (IN_DOUBT, None)
        # a retry after a failure Meta answered may be sent again
        assert await first.claim("out-3") == (FRESH, None)
        await first.settle("out-3", "retry", error={"code": 131056})
        assert await other.claim("out-3") == (FRESH, None)
    finally:
        for ledger in (first, other):
            await ledger.close()
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def test_concurrent_first_claims_open_one_pool(
        dev_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender's per-partition actors claim at once on a fresh ledger: one pool is
    opened (a second would be left open, holding connections, never closed)."""
    schema = f"tl{uuid.uuid4().hex[:10]}"
    settings = Settings.from_env({"DATABASE_URL": dev_stack["database_url"],
                                  "DATABASE_OWNER_URL": dev_stack["database_owner_url"],
                                  "KAFKA_BOOTSTRAP_SERVERS": dev_stack["bootstrap"],
                                  "WASTREAM_DB_SCHEMA": schema})
    opened: list[asyncpg.Pool] = []
    real_create_pool = asyncpg.create_pool

    async def counting_create_pool(*args: Any, **kwargs: Any) -> asyncpg.Pool:
        pool = await real_create_pool(*args, **kwargs)
        opened.append(pool)
        return pool

    monkeypatch.setattr(asyncpg, "create_pool", counting_create_pool)
    ledger = Ledger(settings, migrate)
    try:
        claims = await asyncio.gather(*(ledger.claim(f"out-{i}") for i in range(8)))
        assert claims == [(FRESH, None)] * 8
        assert len(opened) == 1
    finally:
        await ledger.close()
        for pool in opened:
            await pool.close()
        async with real_create_pool(dev_stack["database_owner_url"], min_size=1,
                                    max_size=1) as pool:
            await pool.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_without_a_prepare_hook_a_missing_table_is_a_transient_error(
        dev_stack: dict[str, str]) -> None:
    """streams/ does not import the projector's migrations: a ledger given no hook says
    what to run, and the send waits in the retry tiers (transient) instead of failing."""
    schema = f"tl{uuid.uuid4().hex[:10]}"
    settings = Settings.from_env({"DATABASE_URL": dev_stack["database_url"],
                                  "WASTREAM_DB_SCHEMA": schema})
    ledger = Ledger(settings)
    try:
        with pytest.raises(LedgerMissing, match="wastream migrate") as info:
            await ledger.claim("out-1")
        assert is_transient(info.value)
    finally:
        await ledger.close()


async def test_a_ledger_migrated_before_0008_is_migrated_and_keeps_template_versions(
        dev_stack: dict[str, str]) -> None:
    """A worker newer than the database (the ledger without 0008's template column)
    applies the migrations first; then a free-form message's template version is found
    by its wamid (a 131047 Meta reports later, decision 0015), until it is replaced."""
    schema = f"tl{uuid.uuid4().hex[:10]}"
    settings = Settings.from_env({"DATABASE_URL": dev_stack["database_url"],
                                  "DATABASE_OWNER_URL": dev_stack["database_owner_url"],
                                  "WASTREAM_DB_SCHEMA": schema})
    conn = await asyncpg.connect(dev_stack["database_owner_url"])
    await migrate(settings)
    await conn.execute(f'ALTER TABLE "{schema}".wa_sender_ledger DROP COLUMN template')
    await conn.execute(f"DELETE FROM \"{schema}\".schema_migrations "
                       "WHERE name = '0008_message_templates'")
    ledger = Ledger(settings, migrate)
    try:
        template = {"type": "template", "template": {"name": "t", "language": {"code": "en"}}}
        assert await ledger.claim("out-1") == (FRESH, None)
        await ledger.settle("out-1", "accepted", wamid="wamid.F", template=template)
        assert await ledger.template_of("wamid.F") == ("out-1", template)
        await ledger.settle("out-1", "accepted", wamid="wamid.T")  # the template went
        assert await ledger.template_of("wamid.F") is None
        assert await ledger.template_of("wamid.T") is None
    finally:
        await ledger.close()
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
