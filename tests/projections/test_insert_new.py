"""``insert_new`` against the real database: first row per key wins, existing keys are
kept, and a conflict the probe did not see falls back to the upsert path."""

from __future__ import annotations

from typing import Any

import asyncpg

from projections import base
from projections.base import insert_new
from tests.support.system import System

COLS = ("k", "v")


async def _table(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch("SELECT k, v FROM t ORDER BY k")]


async def test_first_per_key_wins_and_existing_rows_stay(system: System) -> None:
    conn = await system.owner_db()  # creates tables
    try:
        await conn.execute("CREATE TABLE t (k text PRIMARY KEY, v text)")
        await conn.execute("INSERT INTO t VALUES ('a', 'old')")
        async with conn.transaction():
            await insert_new(conn, "t", COLS, "k", [("a", "new"), ("b", "1"), ("b", "2"),
                                                     ("c", "3")])
        assert await _table(conn) == [("a", "old"), ("b", "1"), ("c", "3")]
    finally:
        await conn.close()


async def test_conflict_unseen_by_the_probe_takes_the_upsert_path(system: System) -> None:
    conn = await system.owner_db()  # creates tables
    try:
        await conn.execute("CREATE TABLE t (k text PRIMARY KEY, v text)")
        await conn.execute("INSERT INTO t VALUES ('a', 'old')")

        class Blind:  # the probe sees nothing, as if another writer inserted 'a' meanwhile
            def __getattr__(self, name: str) -> Any:
                return getattr(conn, name)

            async def fetch(self, *_a: Any) -> list[Any]:
                return []

        async with conn.transaction():
            await insert_new(Blind(), "t", COLS, "k", [("a", "new"), ("b", "1")])  # type: ignore[arg-type]
        assert await _table(conn) == [("a", "old"), ("b", "1")]
    finally:
        await conn.close()


async def test_optimistic_copy_then_probe_first_after_a_conflict(system: System) -> None:
    """No key in the table yet: one COPY, no probe. A batch that hits an existing key
    rolls back to its savepoint, probes, keeps the old row, and the table's next batches
    are probed first; the outcome is the same either way."""
    conn = await system.owner_db()  # creates tables
    try:
        await conn.execute("CREATE TABLE t_opt (k text PRIMARY KEY, v text)")
        base._PROBE_FIRST.pop("t_opt", None)
        probes: list[Any] = []

        class Counting:
            def __getattr__(self, name: str) -> Any:
                return getattr(conn, name)

            async def fetch(self, *a: Any) -> list[Any]:
                probes.append(a)
                return list(await conn.fetch(*a))

        spy: Any = Counting()
        async with conn.transaction():
            await insert_new(spy, "t_opt", COLS, "k", [("a", "1"), ("b", "2"), ("a", "3")])
        assert probes == []  # the optimistic COPY went through
        async with conn.transaction():
            await insert_new(spy, "t_opt", COLS, "k", [("b", "new"), ("c", "4")])
        assert len(probes) == 1
        assert base._PROBE_FIRST["t_opt"] == base._PROBE_BATCHES_AFTER_CONFLICT
        async with conn.transaction():
            await insert_new(spy, "t_opt", COLS, "k", [("d", "5")])
        assert len(probes) == 2  # probed first, no conflict needed
        assert base._PROBE_FIRST["t_opt"] == base._PROBE_BATCHES_AFTER_CONFLICT - 1
        assert [tuple(r) for r in await conn.fetch("SELECT k, v FROM t_opt ORDER BY k")] == [
            ("a", "1"), ("b", "2"), ("c", "4"), ("d", "5")]
    finally:
        base._PROBE_FIRST.pop("t_opt", None)
        await conn.close()
