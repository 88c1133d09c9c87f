"""``agent_sessions``: what an agent (general broker, farmer market…) has understood so
far, from the ``wa.state`` records of agent flows. One row per (wa_id, flow): entering
the flow again starts a new session; leaving it ends the session.

An agent flow keeps its session in its data (``streams/engine/sessions.py``:
``session`` = turns, understood fields, backend and latency of the last turn;
``outcome`` = how it ended); they are copied into their own columns. A session that
ends without an outcome is ``abandoned``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from projections.base import Msg, copy_to_temp, jsonb, ts
from projections.chat_state import decode
from schemas import topics
from schemas.state import StateTransition

COLUMNS = ("wa_id", "flow", "status", "step", "data", "language", "started_seq", "seq",
           "started_at", "updated_at", "ended_at", "turns", "understood", "backend",
           "latency_ms", "outcome")


def _session(data: dict[str, Any]) -> tuple[Any, ...]:
    """(turns, understood, backend, latency_ms, outcome) of an agent flow's data."""
    s = data.get("session")
    s = s if isinstance(s, dict) else {}
    understood = s.get("understood")
    return (int(s.get("turns") or 0), jsonb(understood) if understood else None,
            s.get("backend"), s.get("latency_ms"), data.get("outcome"))


def session_row(st: StateTransition, flows: frozenset[str]) -> tuple[Any, ...] | None:
    """The agent_sessions row a transition implies, or None when no agent flow is involved.

    ``started_seq`` is this seq when the transition enters the flow (a new session), else
    NULL (kept from the stored row)."""
    at = ts(st.at)
    if st.flow in flows:
        entering = st.previous_flow != st.flow
        return (st.wa_id, st.flow, "active", st.step, jsonb(st.data), st.language,
                st.seq if entering else None, st.seq, at if entering else None, at, None,
                *_session(st.data))
    if st.previous_flow in flows:
        return (st.wa_id, st.previous_flow, "ended", st.previous_step or "", jsonb({}),
                st.language, None, st.seq, None, at, at, 0, None, None, None, None)
    return None


class AgentSessionsProjection:
    """wa.state (agent flows) → agent_sessions."""

    name = "agent_sessions"
    topics = (topics.STATE,)
    tables = ("agent_sessions",)

    def __init__(self, flows: frozenset[str]) -> None:
        self.flows = flows  # settings.projector.agent_flows (WASTREAM_AGENT_FLOWS)

    async def apply(self, conn: asyncpg.Connection, msgs: Sequence[Msg]) -> None:
        rows = []
        for m in msgs:
            st = decode(m)
            r = session_row(st, self.flows) if st is not None else None
            if r is not None:
                rows.append(r)
        if not rows:
            return
        # Rows of one key within a batch are folded in seq order, one statement each
        # round, so that "enter" then "update" in the same batch both take effect.
        rows.sort(key=lambda r: (r[0], r[1], r[7]))
        rounds: list[list[tuple[Any, ...]]] = []
        last_key: tuple[Any, Any] | None = None
        idx = 0
        for r in rows:
            key = (r[0], r[1])
            idx = idx + 1 if key == last_key else 0
            last_key = key
            if idx == len(rounds):
                rounds.append([])
            rounds[idx].append(r)
        cols = ", ".join(COLUMNS)
        for batch in rounds:
            tmp = await copy_to_temp(conn, "agent_sessions", COLUMNS, batch)
            # started_seq < 0 marks "not entering": keep the stored session's start.
            await conn.execute(
                f"INSERT INTO agent_sessions ({cols}) "
                "SELECT wa_id, flow, status, step, data, language, coalesce(started_seq, -seq), "
                "seq, started_at, updated_at, ended_at, turns, understood, backend, "
                f"latency_ms, coalesce(outcome, CASE WHEN status = 'ended' THEN 'abandoned' END) "
                f"FROM {tmp} "
                "ON CONFLICT (wa_id, flow) DO UPDATE SET "
                "status = EXCLUDED.status, "
                "step = CASE WHEN EXCLUDED.status = 'ended' THEN agent_sessions.step "
                "            ELSE EXCLUDED.step END, "
                "data = CASE WHEN EXCLUDED.status = 'ended' THEN agent_sessions.data "
                "            ELSE EXCLUDED.data END, "
                "language = EXCLUDED.language, seq = EXCLUDED.seq, "
                "started_seq = CASE WHEN EXCLUDED.started_seq >= 0 THEN EXCLUDED.started_seq "
                "                   ELSE agent_sessions.started_seq END, "
                "started_at = CASE WHEN EXCLUDED.started_seq >= 0 THEN EXCLUDED.started_at "
                "                  ELSE agent_sessions.started_at END, "
                "updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at, "
                # an ending keeps what the session had understood, and its outcome
                "turns = CASE WHEN EXCLUDED.status = 'ended' THEN agent_sessions.turns "
                "             ELSE EXCLUDED.turns END, "
                "understood = CASE WHEN EXCLUDED.status = 'ended' THEN agent_sessions.understood "
                "                  ELSE EXCLUDED.understood END, "
                "backend = CASE WHEN EXCLUDED.status = 'ended' THEN agent_sessions.backend "
                "               ELSE EXCLUDED.backend END, "
                "latency_ms = CASE WHEN EXCLUDED.status = 'ended' THEN agent_sessions.latency_ms "
                "                  ELSE EXCLUDED.latency_ms END, "
                "outcome = CASE WHEN EXCLUDED.status = 'ended' "
                "               THEN coalesce(agent_sessions.outcome, 'abandoned') "
                "               ELSE EXCLUDED.outcome END "
                "WHERE EXCLUDED.seq > agent_sessions.seq")
            # A session first seen mid-way (its entry is older than the log) starts there.
            await conn.execute("UPDATE agent_sessions SET started_seq = -started_seq, "
                               "started_at = coalesce(started_at, updated_at) "
                               "WHERE started_seq < 0")
            await conn.execute(f"TRUNCATE {tmp}")
