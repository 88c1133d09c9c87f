"""The console's audit trail: every action and login attempt, with who, when and why."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson


async def record(conn: asyncpg.Connection, operator: str, action: str, target: str = "",
                 reason: str = "", result: dict[str, Any] | None = None) -> None:
    await conn.execute(
        "INSERT INTO console_audit (operator, action, target, reason, result) "
        "VALUES ($1, $2, $3, $4, $5::jsonb)",
        operator, action, target, reason, orjson.dumps(result or {}).decode())


async def recent(conn: asyncpg.Connection, limit: int = 100) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT at, operator, action, target, reason, result "
                                 "FROM console_audit ORDER BY id DESC LIMIT $1", limit))
