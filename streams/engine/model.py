"""The values the engine works on: a conversation (``Conv``), one user input (``Input``),
the engine's context (``Ctx``: clock, options, rides index) and what a step produces
(``Out``: replies, domain events, events for other users' conversations)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from schemas.envelope import InboundEvent


@dataclass
class Conv:
    """One user's conversation: the value of ``chat_state[wa_id]``.

    Its size does not grow with the user's history (no ids of past events or messages).
    ``pos`` ([partition, offset] on ``wa.inbound``) is the place of the last event that
    changed it, set by the agent: it lives in the same record as the state on purpose,
    so that "state advanced" and "event applied" are one atomic changelog record (see
    ``streams.agent.dedupe`` and decision 0011)."""

    wa_id: str
    flow: str = "new"
    step: str = "start"
    lang: str = "en"
    seq: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    misses: int = 0
    last_at: float = 0.0
    deadlines: dict[str, float] = field(default_factory=dict)
    trips: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # ride requests to me (driver)
    ride: dict[str, Any] | None = None  # my open ride request (passenger)
    pos: list[int] | None = None
    # The business number this user last wrote to: replies caused by events that carry
    # none (timers, recovery, other users' events) go out from it.
    phone_number_id: str | None = None

    def to_bytes(self) -> bytes:
        # orjson serialises dataclasses natively (no deep copy as with asdict).
        return orjson.dumps(self)

    @classmethod
    def from_bytes(cls, raw: bytes | None, wa_id: str) -> Conv:
        if not raw:
            return cls(wa_id=wa_id)
        d = orjson.loads(raw)
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})

    def snapshot(self) -> tuple[str, str, str, bytes]:
        """What a ``wa.state`` transition reports; a change of it is a transition."""
        return (
            self.flow,
            self.step,
            self.lang,
            orjson.dumps(self.data, option=orjson.OPT_SORT_KEYS),
        )


@dataclass(frozen=True, slots=True)
class Input:
    """One user input, normalised from a ``message.*`` event."""

    kind: str  # "text" | "choice" | "location" | "other"
    text: str = ""
    choice: str = ""
    lat: float = 0.0
    lon: float = 0.0

    @property
    def word(self) -> str:
        return self.text.strip().casefold()


def parse_input(event: InboundEvent) -> Input | None:
    """The user input carried by a message event; None for messages that are not input
    (reactions, edits, deletions, system notices) and change nothing."""
    p = event.payload
    mtype = str(p.get("type") or event.type.removeprefix("message."))
    if mtype == "text":
        return Input("text", text=str((p.get("text") or {}).get("body", "")))
    if mtype == "interactive":
        inter = p.get("interactive") or {}
        reply = inter.get("list_reply") or inter.get("button_reply") or {}
        if reply.get("id"):
            return Input("choice", choice=str(reply["id"]), text=str(reply.get("title", "")))
        return Input("other")
    if mtype == "button":  # a template quick-reply button
        b = p.get("button") or {}
        return Input(
            "choice",
            choice=str(b.get("payload") or b.get("text") or ""),
            text=str(b.get("text") or ""),
        )
    if mtype == "location":
        loc = p.get("location") or {}
        try:
            return Input("location", lat=float(loc["latitude"]), lon=float(loc["longitude"]))
        except (KeyError, TypeError, ValueError):
            return Input("other")
    if mtype in ("reaction", "system", "deleted", "edit", "revoke", "unsupported_edit"):
        return None
    return Input("other")


@dataclass(frozen=True, slots=True)
class Options:
    """Engine options (from WASTREAM_* variables; short values in tests)."""

    idle_s: float = 1800.0
    ride_timeout_s: float = 300.0
    radius_km: float = 10.0
    online_s: float = 1800.0
    search_window_s: float = 1800.0
    reminder_before_s: float = 1800.0
    dedupe_ttl_s: float = 7 * 86400.0
    tz: str = "Africa/Kigali"

    @classmethod
    def from_env(cls, extra: Mapping[str, str]) -> Options:
        def f(name: str, default: float) -> float:
            raw = extra.get(name)
            return float(raw) if raw else default

        d = cls()
        return cls(
            idle_s=f("WASTREAM_IDLE_TIMEOUT_S", d.idle_s),
            ride_timeout_s=f("WASTREAM_RIDE_TIMEOUT_S", d.ride_timeout_s),
            radius_km=f("WASTREAM_RADIUS_KM", d.radius_km),
            online_s=f("WASTREAM_DRIVER_ONLINE_S", d.online_s),
            search_window_s=f("WASTREAM_SEARCH_WINDOW_S", d.search_window_s),
            reminder_before_s=f("WASTREAM_REMINDER_BEFORE_S", d.reminder_before_s),
            dedupe_ttl_s=f("WASTREAM_DEDUPE_TTL_S", d.dedupe_ttl_s),
            tz=extra.get("WASTREAM_TZ") or d.tz,
        )


class Nearby(Protocol):
    """Who is around: read side of the rides index (drivers online, passengers searching)."""

    def drivers(
        self, vehicle: str, lat: float, lon: float, now: float, exclude: str = ""
    ) -> list[tuple[str, float]]: ...

    def passengers(
        self, vehicle: str, lat: float, lon: float, now: float, exclude: str = ""
    ) -> list[tuple[str, float]]: ...

    def driver(self, wa_id: str, now: float) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class Ctx:
    """What a step may read besides the conversation: the event, the clock, options."""

    event: InboundEvent
    now: float
    opts: Options
    nearby: Nearby


@dataclass
class Out:
    """Effects of one event, in order; the agent turns them into records."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    domain: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    internal: list[tuple[str, str, dict[str, Any]]] = field(
        default_factory=list
    )  # (to, type, payload)
    delivery: list[dict[str, Any]] = field(default_factory=list)
    recovery: dict[str, Any] | None = None
    transition: tuple[str, str] | None = None  # (previous flow, previous step) when state changed
