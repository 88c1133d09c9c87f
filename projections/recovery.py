"""``wa_workflow_recovery`` (the seed's columns) from ``wa.recovery``: one row per
recovery, its status only moving forward (pending → in_progress → completed | failed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from projections.base import Msg, copy_to_temp, jsonb, loads, ms, ts
from schemas import topics
from schemas.record import RecordError
from schemas.recovery import STATUSES, RecoveryUpdate

COLUMNS = ("recovery_id", "conversation_id", "workflow_type", "recovery_action", "status",
           "details", "created_at", "updated_at")
_RANK_SQL = "array_position(ARRAY['pending','in_progress','completed','failed']::text[], {})"


def row(msg: Msg, ru: RecoveryUpdate) -> tuple[Any, ...] | None:
    if ru.status not in STATUSES:
        return None  # the CHECK constraint would refuse it; a newer writer's status
    at = ts(ru.at) or ms(msg.timestamp_ms)
    return (ru.recovery_id, ru.conversation_id, ru.workflow_type, ru.recovery_action, ru.status,
            jsonb(ru.details), at, at)


def fold(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One row per recovery_id: the furthest status, its details merged over those of
    the earlier steps (``pending`` names the failed event, ``completed`` the outcome)."""
    by_id: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        by_id.setdefault(r[0], []).append(r)
    out = []
    for steps in by_id.values():
        steps.sort(key=lambda r: STATUSES.index(r[4]))
        details: dict[str, Any] = {}
        for r in steps:
            details.update(orjson.loads(r[5]))
        last = steps[-1]
        out.append((*last[:5], jsonb(details), min(r[6] for r in steps), last[7]))
    return out


class RecoveryProjection:
    """wa.recovery → wa_workflow_recovery."""

    name = "recovery"
    topics = (topics.RECOVERY,)
    tables = ("wa_workflow_recovery",)

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = []
        for m in msgs:
            d = loads(m)
            if d is None:
                continue
            try:
                r = row(m, RecoveryUpdate.from_dict(d))
            except RecordError:
                continue
            if r is not None:
                rows.append(r)
        if not rows:
            return
        rows = fold(rows)
        tmp = await copy_to_temp(conn, "wa_workflow_recovery", COLUMNS, rows)
        cols = ", ".join(COLUMNS)
        new = _RANK_SQL.format("EXCLUDED.status")
        old = _RANK_SQL.format("wa_workflow_recovery.status")
        await conn.execute(
            f"INSERT INTO wa_workflow_recovery ({cols}) SELECT DISTINCT ON (recovery_id) {cols} "
            f"FROM {tmp} ORDER BY recovery_id, {_RANK_SQL.format('status')} DESC "
            "ON CONFLICT (recovery_id) DO UPDATE SET status = EXCLUDED.status, "
            "details = coalesce(wa_workflow_recovery.details, '{}') || EXCLUDED.details, "
            "recovery_action = EXCLUDED.recovery_action, "
            "updated_at = EXCLUDED.updated_at, "
            "created_at = least(wa_workflow_recovery.created_at, EXCLUDED.created_at) "
            f"WHERE {new} > {old}")
