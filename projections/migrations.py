"""Versioned SQL migrations for the projections schema.

``projections/migrations/NNNN_name.sql`` files are applied in name order, each in its
own transaction, and recorded in ``schema_migrations`` of the target schema. The whole
run holds a transaction-level advisory lock, so two processes migrating the same
database at once serialise instead of racing on ``CREATE``."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from projections import analytics
from wastream.config import Settings, reveal

log = logging.getLogger(__name__)

# One advisory lock for every migrating process of this database: schema creation,
# the cluster-wide analytics role and the pgcrypto extension are shared by all schemas.
_LOCK_KEY = 0x7761_7374  # "wast"
ANALYTICS_ROLE = analytics.ROLE


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


async def connect(settings: Settings, schema: str | None = None, *,
                  owner: bool = False) -> asyncpg.Connection:
    """A connection whose search_path is the projections schema (``schema`` overrides),
    as the services' role, or as the schemas' owner with ``owner``."""
    return await asyncpg.connect(
        settings.database_owner_url if owner else settings.database_url,
        server_settings={"search_path": schema or settings.db_schema},
    )


def _user(dsn: str) -> str | None:
    return urlsplit(dsn).username


async def grant_services(conn: asyncpg.Connection, settings: Settings, schema: str) -> None:
    """Give ``DATABASE_URL``'s role what the services need in ``schema`` and nothing
    more: the schema's use and reading and writing its rows (no DDL, no TRUNCATE), on
    the tables there now and on those this owner creates later (a replay's swap)."""
    app = _user(settings.database_url)
    if app is None or app == _user(settings.database_owner_url):
        return  # one role for both (a dev stack of before the split, a managed server)
    role, q = quote_ident(app), quote_ident(schema)
    await conn.execute(f"GRANT USAGE ON SCHEMA {q} TO {role}")
    await conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {q} "
                       f"TO {role}")
    await conn.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {q} TO {role}")
    await conn.execute(f"ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON "
                       f"TABLES TO {role}")
    await conn.execute(f"ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT, UPDATE ON SEQUENCES "
                       f"TO {role}")


async def migrate(settings: Settings, schema: str | None = None) -> list[str]:
    """Create the schema if needed and apply every migration not yet applied, as the
    schemas' owner (``DATABASE_OWNER_URL``), and grant the services' role its rows.

    Returns the names applied by this call (empty when up to date). Idempotent and safe
    to run concurrently. ``schema`` overrides ``settings.db_schema`` (used by replay to
    build a shadow schema)."""
    schema = schema or settings.db_schema
    conn = await connect(settings, schema, owner=True)
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
            pending = [(n, sql) for n, sql in migration_files() if n not in done]
            if pending:
                # The views depend on the tables' columns; they are re-created below.
                await analytics.drop_views(conn)
            for name, sql in pending:
                async with conn.transaction():  # a savepoint per file: clear error location
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
                log.info("applied migration %s to schema %s", name, schema)
            await analytics.set_key(conn, reveal(settings.database.analytics_key))
            await analytics.create_views(conn)
            await analytics.grant(conn, schema)
            await grant_services(conn, settings, schema)
    finally:
        await conn.close()
    return applied


def sql_dir() -> Path:
    """Where the migration files live (for documentation and tools)."""
    return Path(__file__).with_name("migrations")
