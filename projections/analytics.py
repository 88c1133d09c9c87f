"""Analytics views (``projections/analytics.sql``) and the read-only analytics role.

The views are code, not data: every ``wastream migrate`` drops and re-creates them,
so changing a view is an edit of the SQL file, and a replay swap re-creates them over
the swapped tables. ``wastream_analytics`` (cluster-wide, created idempotently) gets
USAGE on the schema and SELECT on the ``analytics_*`` views only.

The domain event types the views know (``analytics_domain_event_types``) are a block of
the SQL file generated from the domains' typed events, and the district of every place
of the gazetteer (``analytics_places``, from ``streams/places``: the district of a need
whose place is a Kigali sector) another: ``python -m projections.analytics`` rewrites
them, ``--check`` exits 1 when they differ (the test suite runs the same check).
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import asyncpg

from schemas.domain import Event

ROLE = "wastream_analytics"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


SQL_FILE = Path(__file__).resolve().parent / "analytics.sql"
BEGIN = "-- BEGIN generated from the domains' events (python -m projections.analytics)"
END = "-- END generated"
PLACES_BEGIN = "-- BEGIN generated from the gazetteer (python -m projections.analytics)"
PLACES_END = "-- END generated places"


def views_sql() -> str:
    """The SQL that creates every analytics view."""
    return (resources.files("projections") / "analytics.sql").read_text(encoding="utf-8")


def event_types_sql(declared: Sequence[tuple[str, type[Event]]]) -> str:
    """The generated block: one row (domain, name, version) per declared event type."""

    def q(s: str) -> str:
        return "'" + s.replace("'", "''") + "'"

    rows = ",\n".join(f"    ({q(d)}, {q(c.type)}, {c.version})"
                      for d, c in sorted(declared, key=lambda dc: (dc[0], dc[1].type)))
    select = (f"SELECT * FROM (VALUES\n{rows}\n) AS t(domain, name, version)" if rows else
              "SELECT NULL::text AS domain, NULL::text AS name, NULL::int AS version WHERE false")
    return f"{BEGIN}\nCREATE VIEW analytics_domain_event_types AS\n{select};\n{END}"


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def places_sql(names: Sequence[tuple[str, str]]) -> str:
    """The generated block: one row (place, district) per name of the gazetteer."""
    rows = ",\n".join(f"    ({_lit(n)}, {_lit(d)})" for n, d in sorted(set(names)))
    return (f"{PLACES_BEGIN}\nCREATE VIEW analytics_places AS\n"
            f"SELECT * FROM (VALUES\n{rows}\n) AS t(place, district);\n{PLACES_END}")


def _replace(sql: str, begin: str, end: str, block: str) -> str:
    head, _, rest = sql.partition(begin)
    _, found, tail = rest.partition(end)
    if not found:
        raise ValueError(f"analytics.sql has no block {begin!r}")
    return head + block + tail


def with_event_types(sql: str, declared: Sequence[tuple[str, type[Event]]]) -> str:
    """``sql`` with its generated block replaced by the one ``declared`` implies."""
    return _replace(sql, BEGIN, END + "\n", event_types_sql(declared) + "\n")


def with_places(sql: str, names: Sequence[tuple[str, str]]) -> str:
    """``sql`` with its block of places replaced by the one ``names`` implies."""
    return _replace(sql, PLACES_BEGIN, PLACES_END, places_sql(names))


def gazetteer_names() -> list[tuple[str, str]]:
    """(name, district) of every place of the gazetteer (``streams.places``)."""
    from streams.places import places

    return [(p.name, p.district) for p in places()]


def main(argv: Sequence[str]) -> int:
    """``python -m projections.analytics [--check]``: rewrite (or check) the block."""
    from streams.domains import declared_events

    have = SQL_FILE.read_text(encoding="utf-8")
    want = with_places(with_event_types(have, declared_events()), gazetteer_names())
    if "--check" in argv:
        if want != have:
            print("out of date: projections/analytics.sql (run python -m projections.analytics)")
            return 1
        return 0
    SQL_FILE.write_text(want, encoding="utf-8")
    print("wrote projections/analytics.sql")
    return 0


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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
