"""The agent's session inside a conversation: what has been understood so far in this
run of a flow (``conv.data["session"]``, an ``UnderstandingSession`` as JSON) and how it
ended (``conv.data["outcome"]``). Being flow data, both travel on ``wa.state`` and the
``agent_sessions`` read model copies them (started, turns, understood fields, outcome,
backend, latency). Pure helpers for the steps of agent flows (decision 0014)."""

from __future__ import annotations

from typing import Any

from streams.engine.model import Conv, Ctx
from streams.understanding.model import Intent, Understanding, UnderstandingSession

SESSION = "session"
OUTCOME = "outcome"


def session(conv: Conv) -> UnderstandingSession:
    """The session of the flow the user is in (a new one when there is none)."""
    raw = conv.data.get(SESSION)
    return UnderstandingSession.from_json(raw) if isinstance(raw, dict) else UnderstandingSession()


def begin(intent: Intent) -> dict[str, Any]:
    """Flow data that starts a session whose intent is already known (a menu pick)."""
    return {SESSION: UnderstandingSession.start(intent).to_json()}


def heard(ctx: Ctx, conv: Conv) -> Understanding | None:
    """Fold this event's understanding (``ctx.understanding``) into the session and
    return what the session now understands; None when the agent read nothing."""
    if ctx.understanding is None:
        return None
    merged = session(conv).merge(ctx.understanding, ctx.understanding_ms)
    conv.data[SESSION] = merged.to_json()
    return merged.understood


def learn(conv: Conv, **fields: Any) -> Understanding:
    """Set fields the user gave without free text (a list pick, a shared location): they
    count as understood, without a turn of the agent."""
    s = session(conv)
    merged = Understanding.from_json({**s.understood.to_json(), **fields})
    conv.data[SESSION] = UnderstandingSession(merged, s.turns, s.backend,
                                              s.latency_ms).to_json()
    return merged


def finish(conv: Conv, outcome: str) -> None:
    """Record how this session ended (``requested``, ``connected``, ``listed``…)."""
    conv.data[OUTCOME] = outcome
