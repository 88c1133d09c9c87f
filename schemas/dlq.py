"""``wa.dlq`` and ``wa.dlq.ops``.

A ``wa.dlq`` record keeps the failed record's key and value verbatim; the error and
its origin travel in headers (``schemas.headers``). ``wa.dlq.ops`` records the
operator's decisions on dead letters. Key = the dead letter's ``dlq_id``."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.record import Record


@dataclass(frozen=True, slots=True)
class DlqDecision(Record):
    dlq_id: str
    action: str  # "redrive" | "discard"
    by: str
    reason: str = ""
    at: str = ""
