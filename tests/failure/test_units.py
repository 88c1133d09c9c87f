"""Pure logic of failure handling: classification and Meta's code registry, breakers,
pacing, fault rules, the stand-in Graph API's request checks."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaConnectionError, RecordTooLargeError
from prometheus_client import REGISTRY

from schemas.envelope import EnvelopeError
from standins.faults import FaultInjector
from standins.graph import ShapeError, validate
from streams.delivery.pacing import Paced, Pacer, TokenBucket
from streams.failure import errors as e
from streams.failure.breakers import CLOSED, HALF_OPEN, OPEN, Breaker, BreakerPolicy


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize(("status", "code", "cls", "transient"), [
    (400, 130429, e.GraphRateLimited, True),
    (400, 131056, e.GraphPairRateLimited, True),
    (400, 131047, e.GraphOutsideWindow, False),
    (400, 131026, e.GraphUndeliverable, False),
    (400, 131051, e.GraphUnsupportedType, False),
    (400, 100, e.GraphInvalidParameter, False),
    (401, 190, e.GraphAuthError, False),
    (500, None, e.GraphTransient, True),
    (503, 999999, e.GraphTransient, True),  # unknown code: by HTTP status
    (429, None, e.GraphRateLimited, True),
    (404, None, e.GraphPermanent, False),
])
def test_meta_codes_map_to_classified_errors(status: int, code: int | None, cls: type,
                                             transient: bool) -> None:
    body = {"error": {"message": "m", "code": code}} if code is not None else {}
    err = e.graph_error(status, body)
    assert type(err) is cls
    assert e.is_transient(err) is transient
    assert err.code == code


def test_classification_reads_attributes_only() -> None:
    assert not e.is_transient(KeyError("a bug"))  # unknown → permanent
    assert not e.is_transient(EnvelopeError("bad"))
    assert e.is_transient(TimeoutError())
    assert e.is_transient(ConnectionResetError())
    assert e.is_transient(KafkaConnectionError())  # aiokafka's retriable = True
    assert not e.is_transient(RecordTooLargeError())  # retriable = False there
    assert e.is_hold(e.BreakerOpen("graph", 1.0))
    assert e.is_transient(e.BreakerOpen("graph", 1.0))
    assert not e.is_hold(e.TransientError())

    class Custom(Exception):
        transient = True

    assert e.is_transient(Custom())


def test_breaker_opens_after_n_failures_half_opens_and_closes_on_probe() -> None:
    clock = Clock()
    b = Breaker("unit-dep", BreakerPolicy(failures=3, open_s=60), clock)
    for _ in range(2):
        b.check()
        b.failure()
    assert b.state == CLOSED
    b.check()
    b.failure()
    assert b.state == OPEN
    with pytest.raises(e.BreakerOpen) as info:
        b.check()
    assert info.value.retry_after_s == pytest.approx(60)
    assert REGISTRY.get_sample_value("wastream_breaker_state", {"breaker": "unit-dep"}) == 2
    clock.t += 61
    b.check()  # the probe
    assert b.state == HALF_OPEN
    with pytest.raises(e.BreakerOpen):
        b.check()  # one probe at a time
    b.success()
    assert b.state == CLOSED
    assert REGISTRY.get_sample_value("wastream_breaker_state", {"breaker": "unit-dep"}) == 0
    b.check()


def test_failed_probe_reopens() -> None:
    clock = Clock()
    b = Breaker("unit-dep2", BreakerPolicy(failures=1, open_s=10), clock)
    b.failure()
    clock.t += 11
    b.check()
    b.failure()
    assert b.state == OPEN
    assert b.remaining_open_s() == pytest.approx(10)


def test_answers_to_calls_let_through_before_opening_do_not_close_it() -> None:
    # six calls run at once; three fail and open the breaker, then the other three,
    # let through while it was closed, come back: the breaker stays open until its probe
    clock = Clock()
    b = Breaker("unit-dep4", BreakerPolicy(failures=3, open_s=4), clock)
    for _ in range(6):
        b.check()
    for _ in range(3):
        b.failure()
    assert b.state == OPEN
    clock.t += 1
    b.success()
    b.failure()
    assert b.state == OPEN
    assert b.remaining_open_s() == pytest.approx(3)  # a late failure does not extend it
    with pytest.raises(e.BreakerOpen):
        b.check()
    clock.t += 3
    assert b.check() is True  # the probe
    b.success()
    assert b.state == CLOSED
    assert b.check() is False


def test_a_probe_held_before_it_was_made_is_released() -> None:
    clock = Clock()
    b = Breaker("unit-dep5", BreakerPolicy(failures=1, open_s=10), clock)
    b.failure()
    clock.t += 11
    assert b.check() is True
    with pytest.raises(e.BreakerOpen):
        b.check()  # a second caller waits for the probe
    b.release_probe()  # the probe was held (paced) before it reached the dependency
    assert b.check() is True


def test_success_resets_the_failure_count() -> None:
    b = Breaker("unit-dep3", BreakerPolicy(failures=2, open_s=10), Clock())
    b.failure()
    b.success()
    b.failure()
    assert b.state == CLOSED


def test_token_bucket() -> None:
    clock = Clock()
    tb = TokenBucket(rate=2, burst=2, clock=clock)
    assert tb.reserve() == 0
    assert tb.reserve() == 0
    assert tb.reserve() == pytest.approx(0.5)
    clock.t += 1.5
    assert tb.reserve() == 0


async def test_pacer_holds_a_recipient_over_its_pace() -> None:
    clock = Clock()
    p = Pacer(rate=1000, recipient_rate=0.1, recipient_burst=2, clock=clock)
    await p.acquire("pn", "u1")
    await p.acquire("pn", "u1")
    with pytest.raises(Paced) as info:
        await p.acquire("pn", "u1")
    assert e.is_hold(info.value)
    assert info.value.retry_after_s == pytest.approx(10)
    await p.acquire("pn", "u2")  # another recipient is not held


async def test_pacer_keeps_a_recipients_spacing_among_many_others() -> None:
    clock = Clock()
    p = Pacer(rate=1e9, recipient_rate=1 / 6, recipient_burst=1, keep_recipients=1000,
              clock=clock)
    await p.acquire("pn", "busy")
    for i in range(200_000):  # 200,000 other recipients within 3 s
        await p.acquire("pn", f"u{i}")
        clock.t += 3 / 200_000
    with pytest.raises(Paced):  # still within 6 s of its last message
        await p.acquire("pn", "busy")
    for i in range(100_000):  # 100,000 more over the next 7 s
        await p.acquire("pn", f"v{i}")
        clock.t += 7 / 100_000
    # only the buckets used in the last 6 s (not yet refilled) are kept
    assert len(p.recipients) <= 6 * 100_000 / 7 + 1
    await p.acquire("pn", "busy")


async def test_pacer_waits_for_the_business_number_rate() -> None:
    p = Pacer(rate=50, recipient_rate=1000, recipient_burst=1000)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for _ in range(60):  # 50 in the burst, 10 more at 50/s
        await p.acquire("pn", "u")
    assert loop.time() - t0 >= 0.15


def test_fault_rules() -> None:
    inj = FaultInjector.from_spec('[{"match": "X", "kind": "transient", "attempts": 2}]')
    with pytest.raises(e.InjectedTransient):
        inj.check(b"aXb", 0)
    with pytest.raises(e.InjectedTransient):
        inj.check(b"aXb", 1)
    inj.check(b"aXb", 2)
    inj.check(b"ab", 0)
    assert not FaultInjector.from_spec("")
    rate = FaultInjector.from_spec('[{"kind": "permanent", "rate": 0.5}]')
    hits = 0
    for i in range(1000):
        try:
            rate.check(str(i).encode(), 0)
        except e.InjectedPermanent:
            hits += 1
    assert 400 < hits < 600


def _text(to: str = "250788000001", body: str = "hi") -> dict[str, object]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def test_stub_accepts_documented_shapes() -> None:
    assert validate(_text()) == "text"
    assert validate({"messaging_product": "whatsapp", "status": "read",
                     "message_id": "wamid.X"}) == "read"
    buttons = {"messaging_product": "whatsapp", "to": "2507", "type": "interactive",
               "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {
                   "buttons": [{"type": "reply", "reply": {"id": "a", "title": "Yes"}}]}}}
    assert validate(buttons) == "interactive"


@pytest.mark.parametrize("body", [
    {"to": "2507", "type": "text", "text": {"body": "x"}},  # no messaging_product
    _text(to="not-a-number"),
    _text(body=""),
    {"messaging_product": "whatsapp", "to": "2507", "type": "text"},  # no text object
    {"messaging_product": "whatsapp", "to": "2507", "type": "fax", "fax": {}},
    {"messaging_product": "whatsapp", "to": "2507", "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "b"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": str(i), "title": "t"}} for i in range(4)]}}},
    {"messaging_product": "whatsapp", "to": "2507", "type": "interactive", "interactive": {
        "type": "list", "body": {"text": "b"}, "action": {"button": "Go", "sections": [
            {"title": "s", "rows": [{"id": "1", "title": "x" * 25}]}]}}},
    {"messaging_product": "whatsapp", "status": "read"},
])
def test_stub_rejects_malformed_requests(body: dict[str, object]) -> None:
    with pytest.raises(ShapeError):
        validate(body)


async def test_registry_call_guards_a_dependency() -> None:
    from streams.failure.breakers import BreakerRegistry

    clock = Clock()
    reg = BreakerRegistry(BreakerPolicy(failures=2, open_s=30), clock)
    calls = 0

    async def down() -> str:
        nonlocal calls
        calls += 1
        raise e.TransientError("timeout")

    async def refuses() -> str:
        raise e.PermanentError("400")

    async def up() -> str:
        return "ok"

    for _ in range(2):
        with pytest.raises(e.TransientError):
            await reg.call("agent:unit", down)
    with pytest.raises(e.BreakerOpen):
        await reg.call("agent:unit", down)
    assert calls == 2  # not called while open
    clock.t += 31
    assert await reg.call("agent:unit", up) == "ok"
    assert reg.get("agent:unit").state == CLOSED
    with pytest.raises(e.PermanentError):
        await reg.call("agent:unit", refuses)
    assert reg.get("agent:unit").consecutive_failures == 0
