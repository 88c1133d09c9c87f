"""The understanding of one turn, the session across turns, and the one interface.

Both values are frozen and survive plain JSON unchanged (``to_json``/``from_json``), so
a conversation can keep its session in its state and the projector can copy it into
``agent_sessions``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Intent(StrEnum):
    """What the user wants. An intent this version does not know reads as ``UNKNOWN``."""

    FIND_SERVICE = "find_service"  # the general broker: a plumber, a tailor, ...
    SELL_PRODUCE = "sell_produce"  # the farmer market, the farmer's side
    BUY_PRODUCE = "buy_produce"  # the farmer market, the buyer's side
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> Intent:
        log.warning("unknown intent %r read as 'unknown'", value)
        return cls.UNKNOWN


#: The fields each intent needs before the flow can act on it, in the order a bot asks.
#: A quantity without a unit also misses its unit (see :attr:`Understanding.missing`).
NEEDS: dict[Intent, tuple[str, ...]] = {
    Intent.FIND_SERVICE: ("category", "place"),
    Intent.SELL_PRODUCE: ("crop", "quantity", "unit", "price", "place"),
    Intent.BUY_PRODUCE: ("crop", "place"),
    Intent.UNKNOWN: ("intent",),
}

#: The fields a turn can understand (what merges across turns).
UNDERSTOOD = ("category", "place", "lat", "lon", "crop", "quantity", "unit", "price")


@dataclass(frozen=True, slots=True)
class Understanding:
    """What one backend understood from one text. ``place`` is the gazetteer's name for
    the place and comes with its ``lat``/``lon``; ``price`` is per unit, in RWF;
    ``backend`` names who answered (``rules``, ``http``)."""

    intent: Intent = Intent.UNKNOWN
    category: str | None = None
    place: str | None = None
    lat: float | None = None
    lon: float | None = None
    crop: str | None = None
    quantity: float | None = None
    unit: str | None = None
    price: float | None = None
    confidence: float = 0.0
    backend: str = "rules"

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within 0..1, got {self.confidence}")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together")

    @property
    def missing(self) -> tuple[str, ...]:
        """The fields the intent still needs, in the order a bot should ask for them."""
        if self.intent is Intent.UNKNOWN:
            return ("intent",)
        need = NEEDS[self.intent]
        if self.quantity is not None and "unit" not in need:
            need = (*need, "unit")
        return tuple(f for f in need if getattr(self, f) is None)

    @property
    def found(self) -> tuple[str, ...]:
        """The fields this understanding has a value for."""
        return tuple(f for f in UNDERSTOOD if getattr(self, f) is not None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["intent"] = self.intent.value
        out["missing"] = list(self.missing)  # derived: for readers of agent_sessions
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Understanding:
        """The inverse of :meth:`to_json` (our own stored values; not for untrusted input,
        which goes through :func:`streams.understanding.schema.from_wire`)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["intent"] = Intent(values.get("intent", Intent.UNKNOWN))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class UnderstandingSession:
    """What a conversation has understood so far: the merged understanding, how many
    turns it took, and the backend and latency of the last turn."""

    understood: Understanding = Understanding()
    turns: int = 0
    backend: str | None = None
    latency_ms: int = 0

    @classmethod
    def start(cls, intent: Intent = Intent.UNKNOWN) -> UnderstandingSession:
        """A new session; a flow that already knows the intent (picked from the menu)
        says so."""
        return cls(Understanding(intent=intent))

    def merge(self, turn: Understanding, latency_ms: int = 0) -> UnderstandingSession:
        """This session after ``turn``: a known intent that differs from the session's
        starts a new need (nothing carried over); otherwise what the turn understood
        replaces what the session had, field by field, and the rest is kept."""
        old = self.understood
        if turn.intent is not Intent.UNKNOWN and old.intent not in (Intent.UNKNOWN, turn.intent):
            merged = turn
        else:
            changes: dict[str, Any] = {f: getattr(turn, f) for f in turn.found}
            if "place" in changes and "lat" not in changes:  # a place without coordinates
                changes["lat"] = changes["lon"] = None
            if turn.intent is not Intent.UNKNOWN:
                changes["intent"] = turn.intent
            if changes:
                changes["confidence"] = turn.confidence
            merged = replace(old, **changes, backend=turn.backend)
        return UnderstandingSession(merged, self.turns + 1, turn.backend, latency_ms)

    def to_json(self) -> dict[str, Any]:
        return {"understood": self.understood.to_json(), "turns": self.turns,
                "backend": self.backend, "latency_ms": self.latency_ms}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UnderstandingSession:
        return cls(Understanding.from_json(data.get("understood") or {}),
                   int(data.get("turns", 0)), data.get("backend"),
                   int(data.get("latency_ms", 0)))


class Understander(Protocol):
    """One backend: understand ``text`` (written in ``lang``, a hint) in the context of
    what the ``session`` has understood so far. Raises a
    :class:`~streams.failure.errors.StreamError` when it cannot answer; never returns an
    understanding it did not get."""

    async def understand(self, text: str, lang: str,
                         session: UnderstandingSession) -> Understanding: ...
