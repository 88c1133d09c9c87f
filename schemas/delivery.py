"""``wa.delivery``: what became of an outbound message. Key = recipient wa_id.

Written by the sender (``accepted`` with Meta's wamid, or ``failed`` with the error)
and by the status handling of the conversation worker (``sent``, ``delivered``,
``read``, ``played``, ``failed``, from Meta's status webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.record import Record

# "held": not sent, waiting for its template to be approved (a template_unavailable dead
# letter, decision 0015): below "accepted", so the release's outcome replaces it.
STATUS_RANK = {"held": -1, "accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4,
               "failed": 5}


def rank(status: str) -> int:
    """Order of delivery statuses: a lower rank never overwrites a higher one
    (``failed`` is terminal; an unknown status ranks lowest)."""
    return STATUS_RANK.get(status, -1)


@dataclass(frozen=True, slots=True)
class DeliveryUpdate(Record):
    wa_id: str
    status: str
    outbound_id: str | None = None
    wamid: str | None = None
    at: str = ""
    source: str = "sender"  # "sender" | "webhook"
    error: dict[str, Any] | None = None
    correlation_id: str = ""
