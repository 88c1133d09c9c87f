"""The HTTP backend against the chat-completions stand-in, started in-process on a free
loopback port: a valid answer, and every way an answer can fail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from standins.agent import AgentStub
from streams.failure.errors import is_transient
from streams.understanding.errors import AgentBadAnswer, AgentRefused, AgentUnavailable
from streams.understanding.http import HttpOptions, HttpUnderstander
from streams.understanding.model import Intent, UnderstandingSession
from streams.understanding.schema import response_format
from tests.support.places import resolve
from wastream.config import ConfigError, Settings

TOKEN = "test-key"  # noqa: S105 - a test credential


@pytest.fixture
async def stub() -> AsyncIterator[AgentStub]:
    s = await AgentStub(token=TOKEN, resolve_place=resolve).start()
    yield s
    await s.stop()


@pytest.fixture
async def backend(stub: AgentStub) -> AsyncIterator[HttpUnderstander]:
    b = HttpUnderstander(HttpOptions(stub.url, "test-model", TOKEN, timeout_s=0.5), resolve)
    yield b
    await b.close()


async def test_a_valid_answer_is_an_understanding(stub: AgentStub,
                                                  backend: HttpUnderstander) -> None:
    u = await backend.understand("nshaka umufundi w'amazi i Remera", "rw", UnderstandingSession())
    assert (u.intent, u.category, u.place, u.backend) == \
        (Intent.FIND_SERVICE, "plumber", "Remera", "http")
    assert (u.lat, u.lon) == (resolve("Remera").lat, resolve("Remera").lon)  # type: ignore[union-attr]
    sent = stub.answered[0].body
    assert sent["model"] == "test-model"
    assert sent["response_format"] == response_format()
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


async def test_the_session_goes_with_the_request(stub: AgentStub,
                                                 backend: HttpUnderstander) -> None:
    session = UnderstandingSession().merge(
        await backend.understand("I need a plumber", "en", UnderstandingSession()))
    await backend.understand("Kicukiro", "en", session)
    assert '"category": "plumber"' in stub.answered[1].body["messages"][0]["content"]


async def test_a_place_the_gazetteer_does_not_know_is_dropped(
        stub: AgentStub, backend: HttpUnderstander) -> None:
    # The stand-in names Remera; this backend's gazetteer does not know it.
    other = HttpUnderstander(backend.options, lambda text: None)
    try:
        u = await other.understand("I need a plumber in Remera", "en", UnderstandingSession())
    finally:
        await other.close()
    assert (u.category, u.place, u.lat, u.missing) == ("plumber", None, None, ("place",))


@pytest.mark.parametrize(("fault", "error", "words"), [
    ({"status": 500}, AgentUnavailable, "HTTP 500"),
    ({"status": 503}, AgentUnavailable, "HTTP 503"),
    ({"status": 429}, AgentUnavailable, "HTTP 429"),
    ({"delay_s": 2.0, "status": 200}, AgentUnavailable, "no answer within"),
    ({"answer": "invalid_json"}, AgentBadAnswer, "not JSON"),
    ({"answer": "wrong_schema"}, AgentBadAnswer, "does not fit the schema"),
    ({"answer": "not_a_completion"}, AgentBadAnswer, "not JSON"),
])
async def test_a_failed_call_raises_a_transient_error_never_an_understanding(
        stub: AgentStub, backend: HttpUnderstander, fault: dict[str, object],
        error: type[Exception], words: str) -> None:
    stub.fail(1, **fault)  # type: ignore[arg-type]
    with pytest.raises(error, match=words) as raised:
        await backend.understand("I need a plumber in Kicukiro", "en", UnderstandingSession())
    assert is_transient(raised.value)
    # The next call is answered: one fault, one failed call.
    u = await backend.understand("I need a plumber in Kicukiro", "en", UnderstandingSession())
    assert u.category == "plumber"


async def test_a_refused_request_is_permanent(stub: AgentStub) -> None:
    wrong_key = HttpUnderstander(HttpOptions(stub.url, "m", "wrong", 0.5))
    try:
        with pytest.raises(AgentRefused, match="HTTP 401") as raised:
            await wrong_key.understand("plumber", "en", UnderstandingSession())
    finally:
        await wrong_key.close()
    assert not is_transient(raised.value)


async def test_nothing_listening_is_unavailable() -> None:
    from tests.support.system import free_port

    b = HttpUnderstander(HttpOptions(f"http://127.0.0.1:{free_port()}/v1", "m", None, 0.5))
    try:
        with pytest.raises(AgentUnavailable):
            await b.understand("plumber", "en", UnderstandingSession())
    finally:
        await b.close()


def _options(env: dict[str, str]) -> HttpOptions | None:
    return HttpOptions.from_settings(Settings.from_env(env).agent)


def test_options_from_the_environment() -> None:
    assert _options({}) is None
    o = _options({"WASTREAM_AGENT_URL": "http://x/v1/", "WASTREAM_AGENT_MODEL": "m",
                  "WASTREAM_AGENT_API_KEY": "k", "WASTREAM_AGENT_TIMEOUT_S": "2.5"})
    assert o == HttpOptions("http://x/v1", "m", "k", 2.5)
    with pytest.raises(ConfigError, match="WASTREAM_AGENT_MODEL"):
        _options({"WASTREAM_AGENT_URL": "http://x/v1"})
    with pytest.raises(ConfigError, match="WASTREAM_AGENT_TIMEOUT_S"):
        _options({"WASTREAM_AGENT_URL": "http://x", "WASTREAM_AGENT_MODEL": "m",
                  "WASTREAM_AGENT_TIMEOUT_S": "soon"})
