"""``wa_workflow_recovery`` (the seed's columns) from ``wa.recovery``: one row per
recovery, its status only moving forward (pending → in_progress → completed | failed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

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
        tmp = await copy_to_temp(conn, "wa_workflow_recovery", COLUMNS, rows)
        cols = ", ".join(COLUMNS)
        new = _RANK_SQL.format("EXCLUDED.status")
        old = _RANK_SQL.format("wa_workflow_recovery.status")
        await conn.execute(
            f"INSERT INTO wa_workflow_recovery ({cols}) SELECT DISTINCT ON (recovery_id) {cols} "
            f"FROM {tmp} ORDER BY recovery_id, {_RANK_SQL.format('status')} DESC "
            "ON CONFLICT (recovery_id) DO UPDATE SET status = EXCLUDED.status, "
            "details = EXCLUDED.details, recovery_action = EXCLUDED.recovery_action, "
            "updated_at = EXCLUDED.updated_at, "
            "created_at = least(wa_workflow_recovery.created_at, EXCLUDED.created_at) "
            f"WHERE {new} > {old}")
