"""Properties of the engine over random conversations (hypothesis): never silence for a
user's input, never an unknown state, every body within WhatsApp's limits, and the
stored state always round-trips."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.domains.rides.index import RidesIndex
from streams.engine.model import Conv
from streams.engine.process import RESTING
from tests.support import conversations as c
from tests.support.engine_harness import Harness
from tests.workflows.test_catalog import check_limits

U = "250788000999"
D = "250788000998"

words = st.sampled_from(
    [
        "hi",
        "menu",
        "0",
        "stop",
        "banana",
        "1",
        "2",
        "3",
        "12",
        "",
        "2099-01-01 10:00",
        "2001-01-01 10:00",
        "accueil",
        "ahabanza",
        "👍",
    ]
)
actions = st.one_of(
    st.tuples(st.just("text"), words),
    st.tuples(st.just("option"), st.integers(min_value=0, max_value=11)),
    st.tuples(
        st.just("bogus"),
        st.sampled_from(
            ["menu:nope", "driver:x", "ride:accept:zz", "vehicle:boat", "trip:none", "lang:de"]
        ),
    ),
    st.tuples(st.just("location"), st.floats(min_value=-2.0, max_value=-1.9)),
    st.tuples(st.just("wait"), st.sampled_from([1.0, 60.0, 400.0, 2000.0])),
)


def _offered(h: Harness, wa_id: str) -> list[str]:
    for body in reversed(h.to(wa_id)):
        ids = c.row_ids(body)
        if ids:
            return ids
    return []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=25), st.sampled_from(["en", "fr", "rw"]))
def test_random_conversations_never_go_silent_or_astray(
    steps: list[tuple[str, Any]], lang: str
) -> None:
    h = Harness()
    # A driver online nearby so the rides paths are reachable.
    h.model("rides", RidesIndex).online[D] = {
        "vehicle": "moto", "lat": -1.95, "lon": 30.06, "until": h.now + 10**6
    }
    h.stored[U] = Conv(wa_id=U, lang=lang).to_bytes()
    for kind, arg in steps:
        before = len(h.sent)
        if kind == "wait":
            h.advance(arg)
            continue
        if kind == "text":
            ev = c.text(U, arg)
        elif kind == "option":
            ids = _offered(h, U)
            ev = c.pick(U, ids[arg % len(ids)]) if ids else c.text(U, "hi")
        elif kind == "bogus":
            ev = c.pick(U, arg)
        else:
            ev = c.location(U, arg, 30.06)
        h.deliver(ev)
        replies = h.to(U, before)
        assert replies, (kind, arg, h.conv(U).flow, h.conv(U).step)
        conv = h.conv(U)
        flows = h.domains.flows
        assert conv.flow in flows or conv.flow in RESTING
        if conv.flow in flows:
            assert conv.step in flows[conv.flow].steps, (conv.flow, conv.step)
        if kind == "option":
            lang = conv.lang  # a pick in the language flow may change it...
        assert conv.lang == lang  # ...nothing else does
        assert Conv.from_bytes(conv.to_bytes(), U) == conv
    for body in h.sent:
        check_limits(body)
