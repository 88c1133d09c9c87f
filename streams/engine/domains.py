"""The loaded domains: every declaration imported, checked and indexed for the engine.

``load(paths)`` imports each module path and takes its ``DOMAIN``; ``Domains.of``
checks the declarations against each other and the engine (flow names, menu rows,
catalogs, event types, internal event types, timer kinds, choice prefixes), reads each
option group from the environment and builds each read model. Anything wrong raises
one ``DomainError`` naming the domain and the cause: a broken domain stops the worker,
it never silently leaves the menu.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from schemas.domain import Event, EventTypes
from schemas.envelope import InboundEvent
from streams.engine.catalog import GENERIC, MENU_WORDS, STOP_WORDS, Catalog
from streams.engine.domain import (
    ChoiceHandler,
    Domain,
    DomainError,
    EventHandler,
    MenuEntry,
    ReadModel,
    StopHook,
)
from streams.engine.flows import Flow, TimerHandler
from streams.engine.menu import LANGUAGE_FLOW, MENU_FLOW
from streams.engine.messages import MAX_ROWS
from streams.engine.model import Conv, Ctx, Out, parse_input
from wastream.config import Group, Settings

# Names the engine owns: flows it runs itself, internal event types and deadline kinds
# it handles, choice ids its own flows read.
ENGINE_FLOWS = ("new", "menu", "ended", "expired", "language")
ENGINE_EVENT_TYPES = ("wastream.timer", "wastream.recovery")
ENGINE_TIMERS = ("idle",)
ENGINE_CHOICES = ("menu", "lang:")
LANGUAGE_ENTRY = MenuEntry("language", "language")

G = TypeVar("G", bound=Group)
M = TypeVar("M")


def load(paths: Sequence[str]) -> list[Domain]:
    """The ``DOMAIN`` of each module path, in order (DomainError if one cannot be had)."""
    out = []
    for path in paths:
        try:
            module = importlib.import_module(path)
        except Exception as exc:  # any failure to import is this domain's, said in one line
            raise DomainError(path, f"cannot be imported ({type(exc).__name__}: {exc})") from None
        decl = getattr(module, "DOMAIN", None)
        if not isinstance(decl, Domain):
            raise DomainError(path, "declares no DOMAIN = Domain(...)")
        out.append(decl)
    return out


@dataclass(eq=False)
class Domains:
    """Everything the engine, the agent and the worker read of the domains."""

    declared: tuple[Domain, ...]
    flows: dict[str, Flow]
    menu: tuple[tuple[MenuEntry, Catalog], ...]
    events: EventTypes
    handlers: dict[str, EventHandler]
    timers: dict[str, TimerHandler]
    choices: tuple[tuple[str, ChoiceHandler], ...]
    stops: tuple[StopHook, ...]
    kept: dict[str, str]  # old top-level Conv field → domain keeping it now
    options: dict[str, Group] = field(default_factory=dict)
    models: dict[str, ReadModel] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        declared: Sequence[Domain],
        settings: Settings | None = None,
        options: Mapping[str, Group] | None = None,
    ) -> Domains:
        """Check ``declared`` and build the set: each domain's option group from
        ``settings`` (its defaults without) unless given in ``options`` (by domain name),
        one read model each. A bad option value raises ``ConfigError`` (one line)."""
        c = _Checker()
        for d in declared:
            c.add(d)
        loaded = cls(
            declared=tuple(declared),
            flows=c.flows,
            menu=(*c.menu, (LANGUAGE_ENTRY, GENERIC)),
            events=EventTypes(c.events),
            handlers=c.handlers,
            timers=c.timers,
            choices=tuple(c.choices.items()),
            stops=tuple(d.on_stop for d in declared if d.on_stop is not None),
            kept=c.kept,
        )
        for d in declared:
            opts: Group | None = (options or {}).get(d.name)
            if opts is None and d.options is not None:
                opts = settings.options(d.options) if settings else d.options.from_env({})
            if opts is not None:
                loaded.options[d.name] = opts
            if d.model is not None:
                try:
                    loaded.models[d.name] = d.model(opts)
                except Exception as exc:
                    raise DomainError(d.name, f"its read model cannot be built ({exc})") from None
        return loaded

    @classmethod
    def load(cls, paths: Sequence[str], settings: Settings | None = None) -> Domains:
        """Import and check the domains of ``paths`` (DomainError on any problem)."""
        return cls.of(load(paths), settings)

    def option(self, domain: str, kind: type[G]) -> G:
        """``domain``'s option group (its declared class, or its defaults)."""
        got = self.options.get(domain)
        if got is None:
            return kind.from_env({})
        if not isinstance(got, kind):
            raise TypeError(f"options of {domain} are {type(got).__name__}, not {kind.__name__}")
        return got

    def model(self, domain: str, kind: type[M]) -> M:
        """``domain``'s read model."""
        got = self.models[domain]
        if not isinstance(got, kind):
            raise TypeError(f"read model of {domain} is {type(got).__name__}, not {kind.__name__}")
        return got

    def apply(self, wa_id: str, event: Event, now: float) -> None:
        """Feed one typed event to every read model."""
        for model in self.models.values():
            model.apply(wa_id, event, now)

    def prune(self, now: float) -> None:
        for model in self.models.values():
            model.prune(now)

    @property
    def window_s(self) -> float:
        """How far back in ``wa.domain`` the read models must start to be whole."""
        return max((m.window_s for m in self.models.values()), default=0.0)

    def text_to_understand(self, conv: Conv, event: InboundEvent) -> str | None:
        """The text of ``event`` when the step ``conv`` is at declares ``understand``
        (decision 0014): the conversation agent has it understood before calling the
        engine. None for anything else: an event that is not a text message, a menu or
        stop word (the engine handles those itself). The agent asks only for events that
        are not duplicates (``streams.agent.dedupe``)."""
        if not event.type.startswith("message."):
            return None
        flow = self.flows.get(conv.flow)
        step = flow.steps.get(conv.step) if flow is not None else None
        if step is None or not step.understand:
            return None
        inp = parse_input(event)
        if inp is None or inp.kind != "text" or not inp.text.strip():
            return None
        if inp.word in MENU_WORDS or inp.word in STOP_WORDS:
            return None
        return inp.text

    def stop(self, ctx: Ctx, conv: Conv, out: Out) -> None:
        """The user said stop: every domain closes what it holds open."""
        for hook in self.stops:
            hook(ctx, conv, out)


class _Checker:
    """Collects the declarations one by one, refusing the first inconsistency."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.flows: dict[str, Flow] = {f.name: f for f in (MENU_FLOW, LANGUAGE_FLOW)}
        self.menu: list[tuple[MenuEntry, Catalog]] = []
        self.events: list[type[Event]] = []
        self.event_owner: dict[str, str] = {}
        self.handlers: dict[str, EventHandler] = {}
        self.timers: dict[str, TimerHandler] = {}
        self.choices: dict[str, ChoiceHandler] = {}
        self.kept: dict[str, str] = {}

    def add(self, d: Domain) -> None:
        def fail(cause: str) -> DomainError:
            return DomainError(d.name, cause)

        if not d.name or not d.name.isidentifier():
            raise fail("its name must be an identifier")
        if d.name in self.names:
            raise fail("is registered twice")
        self.names.add(d.name)
        own_flows = {f.name for f in d.flows}
        for f in d.flows:
            if f.name in self.flows or f.name in ENGINE_FLOWS:
                raise fail(f"flow {f.name!r} is already declared")
            if f.start not in f.steps:
                raise fail(f"flow {f.name!r} starts at unknown step {f.start!r}")
            self.flows[f.name] = f
        kinds = [(k, h) for f in d.flows for k, h in f.timers.items()] + list(d.timers.items())
        for kind, timer in kinds:
            if kind in self.timers or kind in ENGINE_TIMERS or ":" in kind:
                raise fail(f"timer kind {kind!r} is already declared (or contains ':')")
            self.timers[kind] = timer
        self._menu(d, own_flows, fail)
        for ev in d.events:
            if not (dataclasses.is_dataclass(ev) and issubclass(ev, Event) and ev.type):
                raise fail(f"{ev!r} is not an Event dataclass with a type")
            owner = self.event_owner.get(ev.type)
            if owner is not None:
                raise fail(f"event type {ev.type!r} is already declared by {owner}")
            missing = [n for n in range(1, ev.version) if n not in ev.upcasters]
            if missing:
                raise fail(f"event {ev.type} v{ev.version} has no upcaster from v{missing[0]}")
            self.event_owner[ev.type] = d.name
            self.events.append(ev)
        for typ, handler in d.handlers.items():
            if typ in self.handlers or typ in ENGINE_EVENT_TYPES or not typ.startswith(
                "wastream."
            ):
                raise fail(f"event handler for {typ!r}: taken, or not a wastream.* type")
            self.handlers[typ] = handler
        for prefix, choice in d.choices.items():
            taken = [*self.choices, *ENGINE_CHOICES]
            if not prefix.endswith(":") or any(
                prefix.startswith(p) or p.startswith(prefix) for p in taken
            ):
                raise fail(f"choice prefix {prefix!r} overlaps another (or lacks ':')")
            self.choices[prefix] = choice
        for old in d.kept:
            if old in Conv.__dataclass_fields__ or old in self.kept:
                raise fail(f"kept field {old!r} is a Conv field or kept by another domain")
            self.kept[old] = d.name
        if d.options is not None and not (
            isinstance(d.options, type) and issubclass(d.options, Group)
        ):
            raise fail("options must be a wastream.config.Group subclass")

    def _menu(
        self, d: Domain, own_flows: set[str], fail: Callable[[str], DomainError]
    ) -> None:
        if d.menu and d.texts is None:
            raise fail("has menu entries but no texts")
        if d.texts is not None:
            problems = d.texts.problems()
            if problems:
                raise fail(f"catalog: {problems[0]}" + (
                    f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        keys = {e.key for e, _ in self.menu} | {LANGUAGE_ENTRY.key}
        for entry in d.menu:
            if entry.key in keys:
                raise fail(f"menu entry {entry.key!r} is already on the menu")
            if entry.flow is not None and entry.flow not in own_flows:
                raise fail(f"menu entry {entry.key!r} names unknown flow {entry.flow!r}")
            assert d.texts is not None
            for k in (f"menu.{entry.key}", f"menu.{entry.key}.desc"):
                if k not in d.texts.messages["en"]:
                    raise fail(f"catalog lacks {k!r} for its menu entry")
            if len(self.menu) + 2 > MAX_ROWS:  # + this entry + the language row
                raise fail(f"menu entry {entry.key!r} would make the main menu longer than "
                           f"a WhatsApp list ({MAX_ROWS} rows)")
            keys.add(entry.key)
            self.menu.append((entry, d.texts))
