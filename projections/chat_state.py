"""``chat_state`` (the latest ``seq`` per wa_id wins) and ``wa_state_transitions`` (every
transition, for funnels), from ``wa.state``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.base import Msg, copy_to_temp, jsonb, loads, ts
from schemas import topics
from schemas.record import RecordError
from schemas.state import StateTransition

COLUMNS = ("wa_id", "seq", "flow", "step", "previous_flow", "previous_step", "language", "data",
           "event_id", "at", "correlation_id")
HISTORY = ("wa_id", "seq", "flow", "step", "previous_flow", "previous_step", "language",
           "event_id", "at")


def decode(msg: Msg) -> StateTransition | None:
    """The transition of a wa.state record, or None when it is not one (skipped)."""
    d = loads(msg)
    if d is None:
        return None
    try:
        st = StateTransition.from_dict(d)
        return st if isinstance(st.seq, int) else None
    except RecordError:
        return None


def row(st: StateTransition) -> tuple[Any, ...]:
    return (st.wa_id, st.seq, st.flow, st.step, st.previous_flow, st.previous_step, st.language,
            jsonb(st.data), st.event_id, ts(st.at), st.correlation_id)


class ChatStateProjection:
    """wa.state → chat_state + wa_state_transitions."""

    name = "chat_state"
    topics = (topics.STATE,)
    tables = ("chat_state", "wa_state_transitions")

    def prepare(self, m: Msg) -> None:
        st = decode(m)
        m.memo[self.name] = row(st) if st is not None else None

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = []
        for m in msgs:
            if self.name not in m.memo:
                self.prepare(m)
            r = m.memo[self.name]
            if r is not None:
                rows.append(r)
        if not rows:
            return
        tmp = await copy_to_temp(conn, "chat_state", COLUMNS, rows)
        cols = ", ".join(COLUMNS)
        # DISTINCT ON: one row per wa_id per statement (an upsert may touch a row once).
        await conn.execute(
            f"INSERT INTO chat_state ({cols}) SELECT DISTINCT ON (wa_id) {cols} FROM {tmp} "
            "ORDER BY wa_id, seq DESC "
            "ON CONFLICT (wa_id) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
            + ", updated_at = now() WHERE EXCLUDED.seq > chat_state.seq")
        hist = ", ".join(HISTORY)
        await conn.execute(f"INSERT INTO wa_state_transitions ({hist}) SELECT {hist} FROM {tmp} "
                           "ON CONFLICT (wa_id, seq) DO NOTHING")
