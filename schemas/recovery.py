"""``wa.recovery``: workflow recovery after a dead letter (``wa_workflow_recovery``).
Key = conversation id (the wa_id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.record import Record

STATUSES = ("pending", "in_progress", "completed", "failed")


@dataclass(frozen=True, slots=True)
class RecoveryUpdate(Record):
    recovery_id: str
    conversation_id: str
    workflow_type: str
    recovery_action: str
    status: str
    details: dict[str, Any] = field(default_factory=dict)
    at: str = ""
