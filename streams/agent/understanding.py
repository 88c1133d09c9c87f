"""The conversation agent's call to the understanding backend, made BEFORE the engine
runs (the engine is pure; a backend call is I/O; decision 0014).

:class:`AgentUnderstanding` is built from ``settings.agent``: the rule-based backend
with the gazetteer (``streams.places.resolve``) when ``WASTREAM_AGENT_URL`` is unset;
otherwise the HTTP backend behind the ``agent`` breaker with the rules while it is open
(``WithFallback``). A transient failure of the HTTP backend is raised: it leaves
``process`` and the failure router sends the event to the retry tiers, the user's later
messages parked behind it.
"""

from __future__ import annotations

import time

from schemas.envelope import InboundEvent
from streams.engine.domains import Domains
from streams.engine.model import Conv
from streams.engine.sessions import session
from streams.failure.breakers import BreakerPolicy, BreakerRegistry
from streams.places import resolve
from streams.understanding.fallback import WithFallback
from streams.understanding.http import HttpOptions, HttpUnderstander
from streams.understanding.model import Understander, Understanding
from streams.understanding.rules import RuleBased
from wastream.config import AgentSettings


class AgentUnderstanding:
    """The backend of this worker, and the one call the conversation agent makes."""

    def __init__(self, backend: Understander, http: HttpUnderstander | None = None,
                 breakers: BreakerRegistry | None = None) -> None:
        self.backend = backend
        self.http = http
        self.breakers = breakers

    @classmethod
    def from_settings(cls, agent: AgentSettings) -> AgentUnderstanding:
        rules = RuleBased(resolve_place=resolve)
        options = HttpOptions.from_settings(agent)
        if options is None:
            return cls(rules)
        http = HttpUnderstander(options, resolve)
        breakers = BreakerRegistry(BreakerPolicy(agent.breaker_failures, agent.breaker_open_s))
        return cls(WithFallback(http, rules, breakers), http, breakers)

    async def before(self, domains: Domains, conv: Conv,
                     event: InboundEvent) -> tuple[Understanding | None, int]:
        """What the backend understood of ``event``'s text and how long it took (ms),
        when the user's step asks for it (``Domains.text_to_understand``); else
        (None, 0). Raises the backend's error (transient: retried in order)."""
        text = domains.text_to_understand(conv, event)
        if text is None:
            return None, 0
        started = time.perf_counter()
        u = await self.backend.understand(text, conv.lang, session(conv))
        return u, round(1000 * (time.perf_counter() - started))

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
