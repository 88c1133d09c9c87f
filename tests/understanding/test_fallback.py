"""The HTTP backend behind the ``agent`` breaker: an outage opens it and the rules answer,
a successful probe closes it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from standins.agent import AgentStub
from streams.failure.breakers import CLOSED, OPEN, BreakerPolicy, BreakerRegistry
from streams.understanding.errors import AgentBadAnswer, AgentUnavailable
from streams.understanding.fallback import BREAKER, WithFallback
from streams.understanding.http import HttpOptions, HttpUnderstander
from streams.understanding.model import UnderstandingSession
from streams.understanding.rules import RuleBased
from tests.support.places import resolve

NEED = "I need a plumber in Kicukiro"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def stub() -> AsyncIterator[AgentStub]:
    s = await AgentStub(resolve_place=resolve).start()
    yield s
    await s.stop()


@pytest.fixture
async def http(stub: AgentStub) -> AsyncIterator[HttpUnderstander]:
    b = HttpUnderstander(HttpOptions(stub.url, "m", None, timeout_s=0.5), resolve)
    yield b
    await b.close()


async def test_an_outage_opens_the_breaker_the_rules_answer_and_a_probe_closes_it(
        stub: AgentStub, http: HttpUnderstander) -> None:
    clock = Clock()
    breakers = BreakerRegistry(BreakerPolicy(failures=2, open_s=30), clock=clock)
    agent = WithFallback(http, RuleBased(resolve), breakers)
    s = UnderstandingSession()

    assert (await agent.understand(NEED, "en", s)).backend == "http"
    stub.fail(100, status=503)  # the endpoint is down until told otherwise
    for _ in range(2):  # closed: each failure is raised (to the retry tiers) and counted
        with pytest.raises(AgentUnavailable):
            await agent.understand(NEED, "en", s)
    assert breakers.get(BREAKER).state == OPEN
    asked = len(stub.seen)

    u = await agent.understand(NEED, "en", s)  # open: the rules answer, the endpoint rests
    assert (u.backend, u.category, u.place) == ("rules", "plumber", "Kicukiro")
    assert len(stub.seen) == asked

    clock.t += 31  # the probe goes to the endpoint, still down: open again, error raised
    with pytest.raises(AgentUnavailable):
        await agent.understand(NEED, "en", s)
    assert breakers.get(BREAKER).state == OPEN
    assert (await agent.understand(NEED, "en", s)).backend == "rules"

    stub.faults.clear()  # the endpoint recovers; the next probe closes the breaker
    clock.t += 31
    assert (await agent.understand(NEED, "en", s)).backend == "http"
    assert breakers.get(BREAKER).state == CLOSED
    assert (await agent.understand(NEED, "en", s)).backend == "http"


async def test_garbage_counts_as_an_outage(stub: AgentStub, http: HttpUnderstander) -> None:
    breakers = BreakerRegistry(BreakerPolicy(failures=2, open_s=30), clock=Clock())
    agent = WithFallback(http, RuleBased(resolve), breakers)
    stub.fail(2, answer="wrong_schema")
    for _ in range(2):
        with pytest.raises(AgentBadAnswer, match="schema"):
            await agent.understand(NEED, "en", UnderstandingSession())
    assert (await agent.understand(NEED, "en", UnderstandingSession())).backend == "rules"
