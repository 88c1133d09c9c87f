"""The values the engine works on: a conversation (``Conv``), one user input (``Input``),
the engine's context (``Ctx``: clock, options, the loaded domains) and what a step
produces (``Out``: replies, typed domain events, events for other users' conversations)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from schemas.domain import Event
from schemas.envelope import InboundEvent
from schemas.templates import TemplateChange

if TYPE_CHECKING:
    from streams.engine.domains import Domains
    from streams.understanding.model import Understanding
    from wastream.config import ConversationSettings


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
    # Each domain's data that outlives a flow change (domain name → its slot); a domain
    # reads and writes its own slot only, through accessors in its package.
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    pos: list[int] | None = None
    # The business number this user last wrote to: replies caused by events that carry
    # none (timers, recovery, other users' events) go out from it.
    phone_number_id: str | None = None
    # Meta's timestamp (epoch s) of this user's last message: their customer-service
    # window (decision 0015). Set from the log by the engine, so a replay rebuilds it.
    last_inbound: int = 0

    def to_bytes(self) -> bytes:
        """The stored form, right-sized: the table keeps these bytes for as long as the
        conversation lives. orjson's own bytes keep its whole working buffer allocated
        (4 KB and up since orjson 3.12; it never shrinks it), so its output is copied:
        100,000 conversations after a burst held ~4 KB each, ~390 MB of RSS
        (``bench.scale``), where the copies take ~250 bytes each. The copy costs well
        under a microsecond."""
        # orjson serialises dataclasses natively (no deep copy as with asdict).
        return bytes(memoryview(orjson.dumps(self)))

    @classmethod
    def from_bytes(
        cls, raw: bytes | None, wa_id: str, kept: Mapping[str, str] | None = None
    ) -> Conv:
        """The stored conversation; fields it does not know are ignored. ``kept`` maps
        top-level fields of records written before domains had slots to the domain
        that now keeps them (``Domain.kept``): their values move into that slot."""
        if not raw:
            return cls(wa_id=wa_id)
        d = orjson.loads(raw)
        names = cls.__dataclass_fields__
        conv = cls(**{k: v for k, v in d.items() if k in names})
        for old, domain in (kept or {}).items():
            value = d.get(old)
            if value and old not in conv.domains.get(domain, {}):
                conv.domains.setdefault(domain, {})[old] = value
        return conv

    def slot(self, domain: str) -> dict[str, Any]:
        """``domain``'s data in this conversation (created empty on first use)."""
        return self.domains.setdefault(domain, {})

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
    """The engine's own options (``settings.conversation``; short values in tests). A
    domain's options are its own group (``Ctx.domains``)."""

    idle_s: float = 1800.0
    dedupe_ttl_s: float = 7 * 86400.0
    tz: str = "Africa/Kigali"
    window_s: float = 86400.0  # Meta's customer-service window

    @classmethod
    def from_settings(cls, conversation: ConversationSettings) -> Options:
        return cls(idle_s=conversation.idle_timeout_s,
                   dedupe_ttl_s=conversation.dedupe_ttl_s, tz=conversation.tz,
                   window_s=conversation.service_window_s)


@dataclass(frozen=True, slots=True)
class Ctx:
    """What a step may read besides the conversation: the event, the clock, the
    engine's options and the loaded domains (each domain's options and read model,
    reached through typed accessors in the domain's package). ``understanding``: what
    the agent's backend understood of this event's text, when the user's step asked for
    it (``Step.understand``), and how long it took; made before the engine ran (the
    engine does no I/O; decision 0014)."""

    event: InboundEvent
    now: float
    opts: Options
    domains: Domains
    understanding: Understanding | None = None
    understanding_ms: int = 0


@dataclass
class Out:
    """Effects of one event, in order; the agent turns them into records."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    domain: list[Event] = field(default_factory=list)
    internal: list[tuple[str, str, dict[str, Any]]] = field(
        default_factory=list
    )  # (to, type, payload)
    delivery: list[dict[str, Any]] = field(default_factory=list)
    templates: list[TemplateChange] = field(default_factory=list)  # to wa.templates
    # wamids Meta accepted then failed with 131047: their template versions go instead.
    template_of: list[str] = field(default_factory=list)
    recovery: dict[str, Any] | None = None
    transition: tuple[str, str] | None = None  # (previous flow, previous step) when state changed
