"""A pure, in-process harness around ``streams.engine.process``: several users' conversations,
the domains (registry and extra ones) with their read models, and a clock, with internal
events routed between conversations the way ``wa.inbound`` routes them (no broker; for
fast unit tests of the state machines). Each delivery is a new record of one partition
(a new offset), deduped by the agent's rule (``streams.agent.dedupe``) with a dict for
the ``chat_seen`` table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from schemas.domain import Event
from schemas.envelope import InboundEvent
from streams.agent import dedupe
from streams.agent.timers import timer_event
from streams.domains import REGISTRY
from streams.engine import process as engine
from streams.engine.domain import Domain
from streams.engine.domains import Domains, load
from streams.engine.model import Conv, Ctx, Options, Out
from streams.engine.sessions import session
from streams.places import resolve
from streams.understanding.model import Understanding
from streams.understanding.rules import RuleBased
from tests.support import conversations as c
from wastream.config import Group

M = TypeVar("M")

T0 = 1_790_000_000.0  # a fixed clock start (2026-09-21 UTC): deterministic tests


@dataclass
class Harness:
    """Users' conversations as bytes (as stored), so every step round-trips the codec."""

    opts: Options = field(default_factory=Options)
    # Domain option groups by domain name (the rest: their defaults).
    options: dict[str, Group] = field(default_factory=dict)
    # Domains loaded after the registry's (like WASTREAM_EXTRA_DOMAINS).
    extra: tuple[Domain, ...] = ()
    now: float = T0
    stored: dict[str, bytes] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)  # every reply, in order
    # (wa_id, type, data) of every domain event, and the typed events themselves.
    domain: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, Event]] = field(default_factory=list)
    transitions: list[tuple[str, int, str, str]] = field(default_factory=list)
    delivery: list[dict[str, Any]] = field(default_factory=list)
    recovery: list[dict[str, Any]] = field(default_factory=list)
    # The understanding backend, as the conversation agent calls it before the engine
    # (the rules with the real gazetteer; a test may put another).
    rules: RuleBased = field(default_factory=lambda: RuleBased(resolve_place=resolve))
    understood: list[Understanding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.domains = Domains.of([*load(REGISTRY), *self.extra], None, self.options)

    def model(self, domain: str, kind: type[M]) -> M:
        """``domain``'s read model, as the worker keeps it."""
        return self.domains.model(domain, kind)
    seen: dict[bytes, bytes] = field(default_factory=dict)  # the chat_seen table
    offset: int = 0  # of the last record delivered (one partition)

    def conv(self, wa_id: str) -> Conv:
        return Conv.from_bytes(self.stored.get(wa_id), wa_id, self.domains.kept)

    def deliver(self, ev: InboundEvent) -> Out | None:
        """Process one event as a new record (and, recursively, the internal events it
        causes); None when the agent's dedupe drops it."""
        self.offset += 1
        conv = self.conv(ev.wa_id)
        skey = dedupe.seen_key(ev.wa_id, ev.event_id)
        seen = dedupe.Seen.from_bytes(self.seen.get(skey))
        if dedupe.verdict(conv.pos, seen, 0, self.offset, self.now) is not dedupe.Verdict.NEW:
            return None
        text = self.domains.text_to_understand(conv, ev)
        heard = None if text is None else self.rules.read(text, session(conv))
        if heard is not None:
            self.understood.append(heard)
        ctx = Ctx(event=ev, now=self.now, opts=self.opts, domains=self.domains,
                  understanding=heard, understanding_ms=1 if heard else 0)
        before = conv.to_bytes()
        out = engine.process(conv, ctx)
        if conv.to_bytes() != before:
            conv.pos = [0, self.offset]
            self.stored[ev.wa_id] = conv.to_bytes()
            self.seen[skey] = dedupe.Seen(self.now + self.opts.dedupe_ttl_s, 0,
                                          self.offset).to_bytes()
        self.sent.extend(out.replies)
        self.delivery.extend(out.delivery)
        if out.recovery:
            self.recovery.append(out.recovery)
        if out.transition is not None:
            self.transitions.append((conv.wa_id, conv.seq, conv.flow, conv.step))
        for fact in out.domain:
            self.domain.append((conv.wa_id, fact.type, fact.to_data()))
            self.events.append((conv.wa_id, fact))
            self.domains.apply(conv.wa_id, fact, self.now)
        for to, typ, payload in out.internal:
            self.deliver(
                InboundEvent(
                    event_id=f"{ev.event_id}:{typ}:{to}",
                    type=typ,
                    wa_id=to,
                    phone_number_id=None,
                    timestamp=None,
                    received_at="",
                    correlation_id="",
                    payload=payload,
                    field="wastream",
                )
            )
        return out

    def replies(self, ev: InboundEvent) -> list[dict[str, Any]]:
        """Deliver ``ev``; return the replies sent to its user by it."""
        before = len(self.sent)
        self.deliver(ev)
        return [b for b in self.sent[before:] if b["to"] == ev.wa_id]

    def say(self, wa_id: str, text: str) -> list[dict[str, Any]]:
        return self.replies(c.text(wa_id, text))

    def pick(self, wa_id: str, row_id: str) -> list[dict[str, Any]]:
        return self.replies(c.pick(wa_id, row_id))

    def tap(self, wa_id: str, button_id: str) -> list[dict[str, Any]]:
        return self.replies(c.button(wa_id, button_id))

    def share(self, wa_id: str, lat: float, lon: float) -> list[dict[str, Any]]:
        return self.replies(c.location(wa_id, lat, lon))

    def advance(self, seconds: float) -> None:
        """Move the clock and fire every due deadline, as the timer task would."""
        self.now += seconds
        for wa_id in list(self.stored):
            for kind, due in sorted(self.conv(wa_id).deadlines.items(), key=lambda kv: kv[1]):
                if due <= self.now:
                    self.deliver(timer_event(wa_id, kind, due))

    def to(self, wa_id: str, since: int = 0) -> list[dict[str, Any]]:
        return [b for b in self.sent[since:] if b["to"] == wa_id]
