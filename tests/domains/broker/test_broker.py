"""The general broker's flows on the pure engine: vendors registering and imported, a
need understood in free text, what is missing asked for, vendors listed nearest first,
the request, the vendor's answer in the vendor's language, the timeout."""

from __future__ import annotations

import dataclasses
from typing import Any

from schemas.envelope import InboundEvent
from streams.domains.broker.events import VendorRegistered
from streams.domains.broker.index import VendorIndex
from streams.domains.broker.options import BrokerOptions
from streams.engine.sessions import session
from tests.support import conversations as c
from tests.support.engine_harness import Harness

U = "250788000501"  # the user with a need
V1, V2, V3 = "250788000601", "250788000602", "250788000603"
KICUKIRO = (-1.9700, 30.1000)  # near the gazetteer's Kicukiro


def _import(h: Harness, vendor: str, name: str, cats: list[str], lat: float, lon: float,
            eid: str = "") -> None:
    h.deliver(InboundEvent(
        event_id=eid or f"import:{vendor}:{name}", type="wastream.broker.import", wa_id=vendor,
        phone_number_id=None, timestamp=None, received_at="", correlation_id="",
        payload={"name": name, "categories": cats, "lat": lat, "lon": lon}, field="wastream"))


def _text(body: dict[str, Any]) -> str:
    if body["type"] == "text":
        return str(body["text"]["body"])
    return str(body["interactive"]["body"]["text"])


def _rows(body: dict[str, Any]) -> list[dict[str, str]]:
    return list(body["interactive"]["action"]["sections"][0]["rows"])


def _vendors(h: Harness) -> None:
    _import(h, V1, "Amazi Fix", ["plumber"], KICUKIRO[0] + 0.02, KICUKIRO[1])  # ~2.2 km
    _import(h, V2, "Pipe Pro", ["plumber", "mason"], KICUKIRO[0] + 0.005, KICUKIRO[1])
    _import(h, V3, "Volt", ["electrician"], KICUKIRO[0], KICUKIRO[1])


def test_a_kinyarwanda_need_lists_the_vendors_of_its_category_nearest_first() -> None:
    h = Harness()
    _vendors(h)
    h.say(U, "hi")
    h.pick(U, "menu:broker")
    got = h.say(U, "ndashaka umufundi w'amazi i Kicukiro")
    rows = _rows(got[-1])
    assert [r["id"] for r in rows] == [f"vendor:{V2}", f"vendor:{V1}"]
    assert [r["title"] for r in rows] == ["Pipe Pro", "Amazi Fix"]
    assert all("km" in r["description"] for r in rows)
    s = session(h.conv(U))
    assert (s.understood.category, s.understood.place, s.turns) == ("plumber", "Kicukiro", 1)


def test_what_is_missing_is_asked_for_and_nothing_else() -> None:
    h = Harness()
    _vendors(h)
    h.say(U, "hi")
    h.pick(U, "menu:broker")
    got = h.say(U, "I need a plumber")  # no place: a location request
    assert got[-1]["interactive"]["type"] == "location_request_message"
    got = h.say(U, "somewhere nice")  # not a place: said so, asked again
    assert "could not find" in _text(got[0])
    assert got[-1]["interactive"]["type"] == "location_request_message"
    got = h.share(U, *KICUKIRO)
    assert [r["id"] for r in _rows(got[-1])][:1] == [f"vendor:{V2}"]

    h.say(U, "menu")
    h.pick(U, "menu:broker")
    h.tap(U, "need:find")
    got = h.say(U, "blah blah")  # nothing understood: the service list
    assert got[-1]["interactive"]["type"] == "list"
    assert _rows(got[-1])[0]["id"].startswith("cat:")
    h.pick(U, "cat:electrician")
    got = h.say(U, "i Kicukiro")
    assert [r["id"] for r in _rows(got[-1])] == [f"vendor:{V3}"]


def test_the_vendor_gets_the_need_in_their_language_and_accepting_links_both() -> None:
    h = Harness()
    _vendors(h)
    h.say(V2, "hi")
    h.pick(V2, "menu:language")
    h.pick(V2, "lang:fr")
    h.say(U, "hi")
    h.pick(U, "menu:broker")
    h.say(U, "ndashaka umufundi w'amazi i Kicukiro")
    since = len(h.sent)
    h.deliver(dataclasses.replace(c.pick(U, f"vendor:{V2}"), profile_name="Aline"))
    to_vendor = h.to(V2, since)
    assert len(to_vendor) == 1
    body = _text(to_vendor[0])
    assert body.startswith("Nouvelle demande de Aline")
    assert "ndashaka umufundi" in body
    assert "plombier" in body.lower()
    rid = to_vendor[0]["interactive"]["action"]["buttons"][0]["reply"]["id"]
    assert rid.startswith("broker:accept:")
    since = len(h.sent)
    h.tap(V2, rid)
    assert f"https://wa.me/{U}" in _text(h.to(V2, since)[0])
    assert f"https://wa.me/{V2}" in _text(h.to(U, since)[0])
    assert [t for _, t, _ in h.domain][-2:] == ["BrokerRequest", "BrokerAccepted"]
    conv = h.conv(U)
    assert (conv.flow, conv.step, conv.data.get("outcome")) == ("general_broker", "done",
                                                               "connected")


def test_an_unanswered_request_times_out_and_another_vendor_can_be_picked() -> None:
    h = Harness(options={"broker": BrokerOptions(request_timeout_s=60)})
    _vendors(h)
    h.say(U, "hi")
    h.pick(U, "menu:broker")
    h.say(U, "plumber in Kicukiro")
    h.pick(U, f"vendor:{V2}")
    since = len(h.sent)
    h.advance(61)
    mine = h.to(U, since)
    assert "did not answer" in _text(mine[0])
    assert [r["id"] for r in _rows(mine[-1])] == [f"vendor:{V1}"]  # the one asked left out
    assert "BrokerTimedOut" in [t for _, t, _ in h.domain]
    late = len(h.sent)
    rid = next(b for b in h.to(V2) if b["type"] == "interactive")[
        "interactive"]["action"]["buttons"][0]["reply"]["id"]
    h.tap(V2, rid)  # too late: the request is gone
    assert "no longer open" in _text(h.to(V2, late)[-1])


def test_vendors_register_update_pause_and_a_reimport_changes_nothing() -> None:
    h = Harness()
    h.say(V1, "hi")
    h.pick(V1, "menu:broker")
    h.tap(V1, "need:vendor")
    h.say(V1, "Amazi Fix")
    h.pick(V1, "cat:plumber")
    h.tap(V1, "vendor:more")
    h.say(V1, "I also do masonry, umufundi w'amazu")
    h.tap(V1, "vendor:done")
    got = h.share(V1, *KICUKIRO)
    assert "Amazi Fix" in _text(got[0])
    regs = [e for _, e in h.events if isinstance(e, VendorRegistered)]
    assert [(r.categories, r.source) for r in regs] == [(("plumber", "mason"), "whatsapp")]
    index = h.model("broker", VendorIndex)
    assert [x.listing.owner for x in index.near("mason", *KICUKIRO, h.now)] == [V1]

    h.pick(V1, "menu:broker")
    h.tap(V1, "need:vendor")
    h.tap(V1, "vendor:pause")
    assert index.near("plumber", *KICUKIRO, h.now) == []
    h.pick(V1, "menu:broker")
    h.tap(V1, "need:vendor")
    h.tap(V1, "vendor:resume")
    assert [x.listing.owner for x in index.near("plumber", *KICUKIRO, h.now)] == [V1]

    n = len(h.events)
    _import(h, V3, "Volt", ["electrician"], *KICUKIRO, eid="a")
    _import(h, V3, "Volt", ["electrician"], *KICUKIRO, eid="b")  # the same row, much later
    assert len(h.events) == n + 1
    _import(h, V3, "Volt", ["electrician", "welder"], *KICUKIRO, eid="c")  # changed: kept
    assert len(h.events) == n + 2
    assert [x.listing.owner for x in index.near("welder", *KICUKIRO, h.now)] == [V3]
