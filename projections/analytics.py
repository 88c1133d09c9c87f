"""Analytics views (``projections/analytics.sql``) and the read-only analytics role.

The views are code, not data: every ``wastream migrate`` drops and re-creates them,
so changing a view is an edit of the SQL file, and a replay swap re-creates them over
the swapped tables. ``wastream_analytics`` (cluster-wide, created idempotently) gets
USAGE on the schema and SELECT on the ``analytics_*`` views only."""

from __future__ import annotations

import contextlib
import secrets
from importlib import resources

import asyncpg

ROLE = "wastream_analytics"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def views_sql() -> str:
    """The SQL that creates every analytics view."""
    return (resources.files("projections") / "analytics.sql").read_text(encoding="utf-8")


async def drop_views(conn: asyncpg.Connection) -> None:
    """Drop every analytics view of the connection's current schema."""
    names = await conn.fetch(
        "SELECT table_name FROM information_schema.views "
        "WHERE table_schema = current_schema() AND table_name LIKE 'analytics\\_%'")
    if names:
        await conn.execute("DROP VIEW IF EXISTS "
                           + ", ".join(_q(r["table_name"]) for r in names) + " CASCADE")


async def create_views(conn: asyncpg.Connection) -> None:
    """(Re-)create every analytics view in the connection's current schema."""
    await drop_views(conn)
    await conn.execute(views_sql())


async def set_key(conn: asyncpg.Connection, key: str | None) -> None:
    """Store WASTREAM_ANALYTICS_KEY; without one, a random key kept across runs."""
    if key:
        await conn.execute("INSERT INTO analytics_key (id, key) VALUES (1, $1) "
                           "ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key", key)
    else:
        await conn.execute("INSERT INTO analytics_key (id, key) VALUES (1, $1) "
                           "ON CONFLICT (id) DO NOTHING", secrets.token_hex(32))


async def grant(conn: asyncpg.Connection, schema: str) -> None:
    """Create the role if needed; grant it the schema's analytics views and nothing else."""
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE):
        # another database of the cluster may create it meanwhile
        with contextlib.suppress(asyncpg.DuplicateObjectError):
            await conn.execute(f"CREATE ROLE {ROLE} NOLOGIN")
    q = _q(schema)
    await conn.execute(f"GRANT USAGE ON SCHEMA {q} TO {ROLE}")
    await conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q} FROM {ROLE}")
    views = await conn.fetch("SELECT table_name FROM information_schema.views "
                             "WHERE table_schema = $1 AND table_name LIKE 'analytics\\_%'", schema)
    for r in views:
        await conn.execute(f"GRANT SELECT ON {q}.{_q(r['table_name'])} TO {ROLE}")
