"""Versioned SQL migrations for the projections schema.

``projections/migrations/NNNN_name.sql`` files are applied in name order, each in its
own transaction, and recorded in ``schema_migrations`` of the target schema. The whole
run holds a transaction-level advisory lock, so two processes migrating the same
database at once serialise instead of racing on ``CREATE``."""

from __future__ import annotations

import logging
import secrets
from importlib import resources
from pathlib import Path

import asyncpg

from wastream.config import Settings

log = logging.getLogger(__name__)

# One advisory lock for every migrating process of this database: schema creation,
# the cluster-wide analytics role and the pgcrypto extension are shared by all schemas.
_LOCK_KEY = 0x7761_7374  # "wast"
ANALYTICS_ROLE = "wastream_analytics"


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) of every migration, in the order they apply."""
    root = resources.files("projections") / "migrations"
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            out.append((entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    return out


def quote_ident(name: str) -> str:
    """A safely quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


async def connect(settings: Settings, schema: str | None = None) -> asyncpg.Connection:
    """A connection whose search_path is the projections schema (``schema`` overrides)."""
    return await asyncpg.connect(
        settings.database_url,
        server_settings={"search_path": schema or settings.db_schema},
    )


async def migrate(settings: Settings, schema: str | None = None) -> list[str]:
    """Create the schema if needed and apply every migration not yet applied.

    Returns the names applied by this call (empty when up to date). Idempotent and safe
    to run concurrently. ``schema`` overrides ``settings.db_schema`` (used by replay to
    build a shadow schema)."""
    schema = schema or settings.db_schema
    conn = await connect(settings, schema)
    applied: list[str] = []
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            # pgcrypto lives in public so that dropping one projections schema (tests,
            # replays) never drops the extension another schema's views use.
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for name, sql in migration_files():
                if name in done:
                    continue
                async with conn.transaction():  # a savepoint per file: clear error location
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
                log.info("applied migration %s to schema %s", name, schema)
            await _analytics_access(conn, schema, settings)
    finally:
        await conn.close()
    return applied


async def _analytics_access(conn: asyncpg.Connection, schema: str, settings: Settings) -> None:
    """The keyed-hash key and the read-only analytics role (cluster-wide, so created
    idempotently; granted per schema, on analytics views only)."""
    key = settings.extra.get("WASTREAM_ANALYTICS_KEY")
    if key:
        await conn.execute(
            "INSERT INTO analytics_key (id, key) VALUES (1, $1)"
            " ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key", key)
    else:
        # No key configured: a random one, kept across runs (hashes stay stable).
        await conn.execute(
            "INSERT INTO analytics_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            secrets.token_hex(32))
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ANALYTICS_ROLE)
    if not exists:
        await conn.execute(f"CREATE ROLE {ANALYTICS_ROLE} NOLOGIN")
    q = quote_ident(schema)
    await conn.execute(f"GRANT USAGE ON SCHEMA {q} TO {ANALYTICS_ROLE}")
    await conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q} FROM {ANALYTICS_ROLE}")
    views = [r["table_name"] for r in await conn.fetch(
        "SELECT table_name FROM information_schema.views"
        " WHERE table_schema = $1 AND table_name LIKE 'analytics\\_%'", schema)]
    for view in views:
        await conn.execute(f"GRANT SELECT ON {q}.{quote_ident(view)} TO {ANALYTICS_ROLE}")


def sql_dir() -> Path:
    """Where the migration files live (for documentation and tools)."""
    return Path(__file__).with_name("migrations")
