"""Circuit breakers: per downstream dependency (Graph API, agent backends) and per
conversation (the seed's defaults: 5 consecutive failures, 60 s open, one half-open probe).

A breaker never fails work: while it is open, :meth:`Breaker.check` raises
:class:`~streams.failure.errors.BreakerOpen`, whose ``hold`` attribute tells the failure router
to re-schedule the event at the same attempt (no retry budget spent, no dead letter).

State is per process (a breaker is about the live health of a dependency as this worker
sees it) and exported as Prometheus metrics: ``wastream_breaker_state`` (0 closed,
1 half-open, 2 open) and ``wastream_breaker_transitions_total``.

Settings: ``WASTREAM_GRAPH_BREAKER_*`` and ``WASTREAM_CONVERSATION_BREAKER_*``
(``settings.sender`` and ``settings.failure``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import Counter, Gauge

from streams.failure.errors import BreakerOpen, is_hold, is_transient

T = TypeVar("T")

CLOSED, HALF_OPEN, OPEN = "closed", "half_open", "open"
_STATE_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}

BREAKER_STATE = Gauge("wastream_breaker_state", "Circuit breaker state (0 closed, 1 half-open, "
                      "2 open)", ["breaker"])
BREAKER_TRANSITIONS = Counter("wastream_breaker_transitions_total",
                              "Circuit breaker state changes", ["breaker", "to"])


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """``failures`` consecutive failures open the breaker for ``open_s`` seconds; then a
    single probe is let through (half-open): success closes it, failure re-opens it."""

    failures: int = 5
    open_s: float = 60.0


@dataclass
class Breaker:
    """One circuit breaker. ``metric`` False keeps per-conversation breakers out of the
    label space (their count is reported as an aggregate by :class:`BreakerRegistry`)."""

    name: str
    policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    clock: Callable[[], float] = time.monotonic
    metric: bool = True
    state: str = CLOSED
    consecutive_failures: int = 0
    opened_at: float = 0.0
    probe_in_flight: bool = False

    def __post_init__(self) -> None:
        self._export()

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.metric:
                BREAKER_TRANSITIONS.labels(self.name, state).inc()
            self._export()

    def _export(self) -> None:
        if self.metric:
            BREAKER_STATE.labels(self.name).set(_STATE_VALUE[self.state])

    def remaining_open_s(self) -> float:
        return max(0.0, self.opened_at + self.policy.open_s - self.clock())

    def check(self) -> bool:
        """Let a call through, or raise BreakerOpen (with the time until the next probe).
        True when the call let through is the half-open probe (release it with
        :meth:`release_probe` if the call never reaches the dependency)."""
        if self.state == OPEN:
            left = self.remaining_open_s()
            if left > 0:
                raise BreakerOpen(self.name, left)
            self._set(HALF_OPEN)
            self.probe_in_flight = False
        if self.state == HALF_OPEN:
            if self.probe_in_flight:
                # One probe at a time; the others wait about as long as a probe takes.
                raise BreakerOpen(self.name, min(1.0, self.policy.open_s))
            self.probe_in_flight = True
            return True
        return False

    def release_probe(self) -> None:
        """The probe let through by :meth:`check` was not made (it was held elsewhere)."""
        self.probe_in_flight = False

    def success(self) -> None:
        """The dependency answered. While the breaker is open, the answer is to a call let
        through before it opened (calls run concurrently) and says nothing about the
        dependency now: the breaker stays open until its probe."""
        if self.state == OPEN:
            return
        self.consecutive_failures = 0
        self.probe_in_flight = False
        self._set(CLOSED)

    def failed(self, exc: BaseException, probe: bool,
               outage: Callable[[BaseException], bool] = is_transient) -> None:
        """Record a call ``check`` let through (``probe``: it was the probe) that raised:
        held elsewhere, it never reached the dependency (the probe slot is freed); an
        ``outage`` error counts against the dependency; any other error is an answer
        (it refused: not an outage)."""
        if is_hold(exc):
            if probe:
                self.release_probe()
        elif outage(exc):
            self.failure()
        else:
            self.success()

    def failure(self) -> None:
        if self.state == OPEN:
            return  # a call let through before it opened: the open period stands
        self.probe_in_flight = False
        self.consecutive_failures += 1
        if self.state == HALF_OPEN or self.consecutive_failures >= self.policy.failures:
            self.opened_at = self.clock()
            self._set(OPEN)

    @property
    def is_open(self) -> bool:
        return self.state == OPEN and self.remaining_open_s() > 0


OPEN_CONVERSATIONS = Gauge("wastream_conversation_breakers_open",
                           "Conversations whose breaker is open")


class BreakerRegistry:
    """Breakers by name, created on first use with one policy. Per-conversation breakers
    (``metric=False``) are dropped when they close, so the registry does not grow with
    every user ever seen."""

    def __init__(self, policy: BreakerPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic, metric: bool = True) -> None:
        self.policy = policy or BreakerPolicy()
        self.clock = clock
        self.metric = metric
        self._breakers: dict[str, Breaker] = {}

    def get(self, name: str) -> Breaker:
        b = self._breakers.get(name)
        if b is None:
            b = self._breakers[name] = Breaker(name, self.policy, self.clock, self.metric)
        return b

    def check(self, name: str) -> bool:
        """As :meth:`Breaker.check`; a name never seen is closed (False: not a probe)."""
        if name in self._breakers:
            return self._breakers[name].check()
        return False

    def release_probe(self, name: str) -> None:
        b = self._breakers.get(name)
        if b is not None:
            b.release_probe()

    def success(self, name: str) -> None:
        b = self._breakers.get(name)
        if b is not None:
            b.success()
            self._settled(name)

    def _settled(self, name: str) -> None:
        """After an outcome: a closed per-conversation breaker is dropped."""
        b = self._breakers.get(name)
        if b is not None and not self.metric and b.state == CLOSED:
            del self._breakers[name]
            self._export()

    def failure(self, name: str) -> None:
        self.get(name).failure()
        self._export()

    def _export(self) -> None:
        if not self.metric:
            OPEN_CONVERSATIONS.set(sum(1 for b in self._breakers.values() if b.state != CLOSED))

    def __len__(self) -> int:
        return len(self._breakers)

    async def call(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn`` behind breaker ``name``: raises BreakerOpen (hold) while it is open;
        a transient failure counts against the dependency, a permanent one (the
        dependency answered, it refused) and a success close it."""
        breaker = self.get(name)
        probe = breaker.check()
        try:
            result = await fn()
        except Exception as exc:
            breaker.failed(exc, probe)
            self._settled(name)
            self._export()
            raise
        self.success(name)
        return result


_DEPENDENCIES: BreakerRegistry | None = None


def dependencies(policy: BreakerPolicy | None = None) -> BreakerRegistry:
    """The process-wide breakers of downstream dependencies (``graph``, ``agent:<name>``),
    with ``policy`` (the default policy when None) on first use.
    An agent backend wraps each call: ``await dependencies().call("agent:http", fn)``."""
    global _DEPENDENCIES
    if _DEPENDENCIES is None:
        _DEPENDENCIES = BreakerRegistry(policy or BreakerPolicy())
    return _DEPENDENCIES
