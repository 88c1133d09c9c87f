"""The HTTP backend behind the ``agent`` circuit breaker, with the rules while it is open.

The contract, for the conversation agent that calls it:

- breaker closed (or this call is its half-open probe): the primary answers, or its error
  is raised as it is. A transient one (timeout, 5xx, garbage) counts against the
  ``agent`` breaker and goes to the retry tiers like any other transient failure, so the
  user's later messages keep their order; a permanent one (a refused request) does not
  count and goes to the dead letters.
- breaker open (``WASTREAM_AGENT_BREAKER_FAILURES`` outages in a row, for
  ``WASTREAM_AGENT_BREAKER_OPEN_S``), or another call
  is the probe: the fallback (the rules) answers at once, so no user waits on an outage.
  The first probe after the open period goes to the primary again; its success closes
  the breaker.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.failure.breakers import BreakerRegistry
from streams.failure.errors import BreakerOpen
from streams.understanding.model import Understander, Understanding, UnderstandingSession

BREAKER = "agent"


@dataclass
class WithFallback:
    """``primary`` behind breaker ``name`` of ``breakers``; ``fallback`` while it is open."""

    primary: Understander
    fallback: Understander
    breakers: BreakerRegistry
    name: str = BREAKER

    async def understand(self, text: str, lang: str,
                         session: UnderstandingSession) -> Understanding:
        try:
            return await self.breakers.call(
                self.name, lambda: self.primary.understand(text, lang, session))
        except BreakerOpen as exc:
            if exc.breaker != self.name:
                raise
            return await self.fallback.understand(text, lang, session)
