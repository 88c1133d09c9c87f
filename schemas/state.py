"""``wa.state``: one conversation state transition. Key = wa_id.

The conversation state is a fold over these records: the latest ``seq`` per wa_id
is the current state (``chat_state``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.record import Record


@dataclass(frozen=True, slots=True)
class StateTransition(Record):
    wa_id: str
    seq: int
    event_id: str
    flow: str
    step: str
    previous_flow: str | None = None
    previous_step: str | None = None
    language: str = "en"
    data: dict[str, Any] = field(default_factory=dict)
    at: str = ""
    correlation_id: str = ""
