"""Properties of the jobs and rentals domains over random users (hypothesis): three
users posting, listing, searching, applying, contacting and answering at random never
get silence for an input, never reach an unknown state, every body stays within
WhatsApp's limits, and every stored conversation round-trips.

Titles are at most 24 characters here: a longer one is clipped with "…" in a list row
(user content; test_jobs checks it), which ``check_limits`` rejects for our own texts."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from schemas.envelope import InboundEvent
from streams.engine.model import Conv, Options
from streams.engine.process import RESTING
from tests.support import conversations as c
from tests.support.engine_harness import Harness
from tests.workflows.test_catalog import check_limits

USERS = ("250788900001", "250788900002", "250788900003")
SEED = "250788900009"  # posts a job and lists a place first, so searches find something

words = st.sampled_from([
    "hi", "menu", "stop", "1", "2", "3", "12", "", "Cook", "Night guard", "5000 per day",
    "150k/month", "a good salary", "300k", "frw 450000", "cheap", "Kicukiro", "Huye",
    "nowhere", "Evenings only", "0", "21", "👍",
])
spots = st.sampled_from([(-1.9441, 30.0619), (-1.95, 30.07), (-1.4941, 30.0619),
                         (-2.6, 29.74), (48.85, 2.35), (0.0, 0.0)])
option = st.tuples(st.just("option"), st.integers(min_value=0, max_value=11))
actions = st.one_of(
    st.tuples(st.just("text"), words),
    option, option, option,  # picking what was offered is what people mostly do
    st.tuples(st.just("menu_row"), st.sampled_from(["menu:jobs", "menu:rentals"])),
    st.tuples(st.just("bogus"), st.sampled_from(
        ["job:nope", "jobs:apply:zz", "jobapp:contact:zz:1", "rent:zz", "rentinq:zz:1",
         "rentrenew:zz", "rentals:contact:zz", "mylist:zz", "myjob:zz", "rtype:boat"])),
    st.tuples(st.just("location"), spots), st.tuples(st.just("location"), spots),
    st.tuples(st.just("image"), st.just("MEDIA")),
    st.tuples(st.just("wait"), st.sampled_from([60.0, 3 * 86400.0, 12 * 86400.0])),
    st.tuples(st.just("script"), st.sampled_from(["find_job", "find_place", "post_job"])),
)
# Runs of inputs that get somewhere (random ones rarely do), each input still checked.
SCRIPTS: dict[str, list[tuple[str, Any]]] = {
    "find_job": [("text", "menu"), ("menu_row", "menu:jobs"), ("tap", "jobs:find"),
                 ("location", (-1.95, 30.07)), ("option", 0), ("option", 0)],
    "find_place": [("text", "menu"), ("menu_row", "menu:rentals"), ("tap", "rentals:find"),
                   ("location", (-1.95, 30.07)), ("text", "1m"), ("tap", "rentals:any"),
                   ("option", 0), ("option", 0)],
    "post_job": [("text", "menu"), ("menu_row", "menu:jobs"), ("tap", "jobs:post"),
                 ("text", "Night guard"), ("text", "3000 a day"), ("text", "Huye"),
                 ("tap", "jobs:skip"), ("tap", "jobs:post")],
}


def _seed(h: Harness) -> None:
    for step in (c.text(SEED, "hi"), c.pick(SEED, "menu:jobs"), c.button(SEED, "jobs:post"),
                 c.text(SEED, "Cook"), c.text(SEED, "5000 per day"),
                 c.location(SEED, -1.95, 30.06), c.button(SEED, "jobs:skip"),
                 c.button(SEED, "jobs:post"), c.pick(SEED, "menu:rentals"),
                 c.button(SEED, "rentals:list"), c.pick(SEED, "rtype:room"),
                 c.text(SEED, "1"), c.text(SEED, "100k"), c.location(SEED, -1.95, 30.06),
                 _image(SEED), c.button(SEED, "rentals:post")):
        h.deliver(step)
    assert [name for _, name, _ in h.domain] == ["JobPosted", "RentalListed"]


def _offered(h: Harness, wa_id: str) -> list[str]:
    for body in reversed(h.to(wa_id)):
        ids = c.row_ids(body)
        if ids:
            return ids
    return []


def _image(wa_id: str) -> InboundEvent:
    ev = c.text(wa_id, "")
    return dataclasses.replace(ev, type="message.image", payload={
        **ev.payload, "type": "image", "image": {"id": "MEDIA"}})


def _event(h: Harness, who: str, kind: str, arg: Any) -> InboundEvent:
    if kind == "text":
        return c.text(who, arg)
    if kind == "option":
        ids = _offered(h, who)
        return c.pick(who, ids[arg % len(ids)]) if ids else c.text(who, "hi")
    if kind in ("menu_row", "bogus"):
        return c.pick(who, arg)
    if kind == "tap":
        return c.button(who, arg)
    if kind == "location":
        return c.location(who, *arg)
    return _image(who)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(USERS), actions), min_size=1, max_size=60))
def test_random_users_never_get_silence_or_an_unknown_state(
    steps: list[tuple[str, tuple[str, Any]]],
) -> None:
    h = Harness(opts=Options(idle_s=30 * 86400))
    _seed(h)
    flows = h.domains.flows
    inputs = [(who, step) for who, (kind, arg) in steps
              for step in (SCRIPTS[arg] if kind == "script" else [(kind, arg)])]
    for who, (kind, arg) in inputs:
        if kind == "wait":
            h.advance(arg)
            continue
        before = len(h.sent)
        h.deliver(_event(h, who, kind, arg))
        assert h.to(who, before), (who, kind, arg, h.conv(who).flow, h.conv(who).step)
        for wa_id in USERS:
            conv = h.conv(wa_id)
            assert conv.flow in flows or conv.flow in RESTING, conv.flow
            if conv.flow in flows:
                assert conv.step in flows[conv.flow].steps, (conv.flow, conv.step)
            assert Conv.from_bytes(conv.to_bytes(), wa_id) == conv
    event(f"facts: {sorted({name for _, name, _ in h.domain[2:]})}")
    for body in h.sent:
        if body.get("type") == "image":
            assert body["image"]["id"] == "MEDIA"
        else:
            check_limits(body)
