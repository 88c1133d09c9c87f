"""The seam between the engine and a business domain: what a domain declares.

A domain is one package (``streams/domains/<name>/``, or any importable module listed
in WASTREAM_EXTRA_DOMAINS) exposing ``DOMAIN = Domain(...)``. The engine, the
conversation agent and the worker know a domain only through this declaration
(loaded and checked by ``streams.engine.domains.Domains``); they name none. The guide
is ``streams/domains/README.md``; the why is docs/decisions/0009.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from schemas.domain import Event
from streams.engine.catalog import Catalog
from streams.engine.flows import Flow, Go, TimerHandler
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.templates import Template
from wastream.config import Group

# An internal event from another user's conversation (``wa.inbound``, ``wastream.*``).
EventHandler = Callable[[Ctx, Conv, dict[str, Any], Out], "Go | None"]
# A choice valid whatever flow the user is in (a button sent by another conversation).
ChoiceHandler = Callable[[Ctx, Conv, Input, Out], "Go | None"]
# The user said stop: close what the domain holds open (requests, presence…).
StopHook = Callable[[Ctx, Conv, Out], None]


class DomainError(Exception):
    """A domain cannot be loaded: it fails to import or declares something inconsistent.
    The message is one line naming the domain and the cause."""

    def __init__(self, domain: str, cause: str) -> None:
        super().__init__(f"domain {domain}: {cause}")
        self.domain = domain
        self.cause = cause


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One row of the main menu: id ``menu:<key>``, texts ``menu.<key>`` and
    ``menu.<key>.desc`` from the domain's catalog. ``flow=None``: a service not built
    yet, which answers "coming soon"."""

    key: str
    flow: str | None = None


class ReadModel(Protocol):
    """A worker-local view of ``wa.domain`` (who is around, what is listed…): fed the
    events of this worker's conversations at once, and every worker's by a follower of
    the topic that starts ``window_s`` back in the log (so it is rebuilt on start)."""

    window_s: float

    def apply(self, wa_id: str, event: Event, now: float) -> None:
        """Fold one event (idempotent: the follower delivers this worker's own again)."""

    def prune(self, now: float) -> None:
        """Forget what has expired."""


@dataclass(frozen=True, eq=False)
class Domain:
    """Everything a business domain brings. Only ``name`` is required.

    - ``flows``: its workflows (steps, and the timers they set);
    - ``menu``: its rows of the main menu, in order;
    - ``texts``: its catalog (en, fr, rw; every language has every key);
    - ``events``: its typed domain events (``schemas.domain.Event`` subclasses);
    - ``handlers``: internal event type (``wastream.<domain>.*``) → handler, for the
      events other users' conversations send to this one;
    - ``timers``: deadline kind → handler, for deadlines not owned by one flow;
    - ``choices``: choice prefix (``"<word>:"``) → handler, for buttons valid whatever
      flow the user is in;
    - ``on_stop``: called when the user says stop;
    - ``options``: its option group, a ``wastream.config.Group`` (its variables are
      listed by ``wastream config`` and the README, and read from the worker's settings);
    - ``model``: a factory of its read model, given its options;
    - ``templates``: the message templates standing in for its notifications outside
      the recipient's 24-hour window (decision 0015; ``wastream templates check``);
    - ``kept``: top-level fields of conversation records written before the domain
      kept its data in ``Conv.domains[name]``: they are moved there when read.
    """

    name: str
    flows: tuple[Flow, ...] = ()
    menu: tuple[MenuEntry, ...] = ()
    texts: Catalog | None = None
    events: tuple[type[Event], ...] = ()
    handlers: Mapping[str, EventHandler] = field(default_factory=dict)
    timers: Mapping[str, TimerHandler] = field(default_factory=dict)
    choices: Mapping[str, ChoiceHandler] = field(default_factory=dict)
    on_stop: StopHook | None = None
    options: type[Group] | None = None
    model: Callable[[Any], ReadModel] | None = None
    kept: tuple[str, ...] = ()
    templates: tuple[Template, ...] = ()
