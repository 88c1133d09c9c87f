"""The farmer market's flows on the pure engine: a listing from free text or from lists
(a quantity without a unit, a price or a date that cannot be read: asked again), its
lifetime, the farmer's updates and closing; a buyer's search nearest first within the
radius; "I'm interested" reaching the farmer in their language, Accept linking both."""

from __future__ import annotations

import dataclasses
from typing import Any

from streams.domains.farmer.events import ProduceListed
from streams.domains.farmer.index import ProduceIndex
from streams.domains.farmer.options import FarmerOptions
from streams.engine import messages as m
from streams.engine.sessions import session
from streams.places import resolve
from streams.understanding.model import Understanding, UnderstandingSession
from streams.understanding.rules import RuleBased
from tests.support import conversations as c
from tests.support.engine_harness import Harness

F1, F2, F3 = "250788000801", "250788000802", "250788000803"  # farmers
B = "250788000901"  # a buyer
MUSANZE = (-1.5000, 29.6350)  # the gazetteer's Musanze
NEAR = (MUSANZE[0] + 0.045, MUSANZE[1])  # ~5 km north
FAR = (MUSANZE[0] - 0.72, MUSANZE[1])  # ~80 km south (16 km from Ruhango): outside
# the 50 km radius


def _text(body: dict[str, Any]) -> str:
    if body["type"] == "text":
        return str(body["text"]["body"])
    return str(body["interactive"]["body"]["text"])


def _rows(body: dict[str, Any]) -> list[dict[str, str]]:
    return list(body["interactive"]["action"]["sections"][0]["rows"])


def _buttons(body: dict[str, Any]) -> list[str]:
    return [b["reply"]["id"] for b in body["interactive"]["action"]["buttons"]]


def _open(h: Harness, who: str) -> None:
    h.say(who, "hi")
    h.pick(who, "menu:farmer")


def _listed(h: Harness) -> list[ProduceListed]:
    return [e for _, e in h.events if isinstance(e, ProduceListed)]


def _list(h: Harness, farmer: str, text: str, at: tuple[float, float]) -> str:
    """A farmer lists produce in one sentence, then shares the place; the listing id."""
    _open(h, farmer)
    h.say(farmer, text)
    h.share(farmer, *at)
    h.tap(farmer, "harvest:skip")
    return _listed(h)[-1].listing_id


def test_a_listing_from_lists_and_bad_inputs_asked_again() -> None:
    h = Harness()
    _open(h, F1)
    got = h.tap(F1, "farmer:sell")
    assert [r["id"] for r in _rows(got[-1])][:2] == ["crop:beans", "crop:maize"]
    got = h.say(F1, "blah")  # no crop in it
    assert "did not recognise" in _text(got[0])
    got = h.pick(F1, "crop:maize")
    assert "How much Maize" in _text(got[-1])
    got = h.say(F1, "200")  # a quantity without a unit: asked again, with the units
    assert _text(got[-1]).startswith("200 of what?")
    assert [r["id"] for r in _rows(got[-1])] == ["unit:kg:200", "unit:tonne:200",
                                                 "unit:sack:200", "unit:litre:200"]
    got = h.say(F1, "lots")
    assert "could not read that quantity" in _text(got[0])
    got = h.pick(F1, "unit:sack:200")
    assert _text(got[-1]).startswith("Your price per sack")
    got = h.say(F1, "cheap")  # a price that cannot be read
    assert "could not read that price" in _text(got[0])
    got = h.say(F1, "15k")
    assert got[-1]["interactive"]["type"] == "location_request_message"
    got = h.say(F1, "somewhere nice")  # a place the agent cannot place
    assert "could not find that place" in _text(got[0])
    got = h.say(F1, "i Musanze")
    assert _buttons(got[-1]) == ["harvest:skip"]
    got = h.say(F1, "next year maybe")
    assert "could not read that date" in _text(got[0])
    got = h.say(F1, "3/10")
    assert _text(got[-1]).startswith("Listed: 200 sacks of Maize at 15,000 RWF per sack, near "
                                     "Musanze, for 14 days.")
    [ev] = _listed(h)
    assert (ev.crop, ev.quantity, ev.unit, ev.price, ev.place, ev.district) == (
        "maize", 200.0, "sack", 15000, "Musanze", "Musanze")
    assert ev.harvest_date == "2026-10-03"  # the clock is 2026-09-21
    assert ev.expires_at - ev.listed_at == 14 * 86400
    conv = h.conv(F1)
    assert (conv.flow, conv.step, conv.data["outcome"]) == ("farmer_market", "done", "listed")


def test_one_sentence_in_kinyarwanda_gives_crop_quantity_and_price() -> None:
    h = Harness()
    _open(h, F1)
    got = h.say(F1, "ndagurisha ibishyimbo ibiro 100 amafaranga 900")
    assert got[-1]["interactive"]["type"] == "location_request_message"  # only the place left
    s = session(h.conv(F1))
    u = s.understood
    assert (u.intent.value, u.crop, u.quantity, u.unit, u.price, s.turns) == (
        "sell_produce", "beans", 100.0, "kg", 900.0, 1)
    h.share(F1, *MUSANZE)
    h.say(F1, "2026-09-01")
    assert [(e.crop, e.quantity, e.price, e.harvest_date) for e in _listed(h)] == [
        ("beans", 100.0, 900, "2026-09-01")]


def test_a_buyer_finds_listings_nearest_first_within_the_radius() -> None:
    h = Harness()
    near = _list(h, F1, "I sell 300 kg of beans at 700 rwf", NEAR)
    here = _list(h, F2, "I sell 2 tonnes of beans at 650 rwf", MUSANZE)
    _list(h, F3, "I sell 50 kg of beans at 600 rwf", FAR)  # 80 km: not offered
    _list(h, F3, "I sell 40 kg of maize at 400 rwf", MUSANZE)  # another crop
    _open(h, B)
    got = h.say(B, "I want 200 kg of beans near Musanze")
    rows = _rows(got[-1])
    assert [r["id"] for r in rows] == [f"offer:{here}", f"offer:{near}"]
    assert [r["title"] for r in rows] == ["2 tonnes", "300 kg"]
    assert rows[0]["description"] == "650 RWF/tonne · 0.0 km away"
    assert rows[1]["description"].startswith("700 RWF/kg · 5.0 km")
    assert _text(got[-1]).startswith("2 offers of Beans near Musanze")

    index = h.model("farmer", ProduceIndex)
    assert len(index.near("beans", *FAR, h.now)) == 1  # the far one is live, just far
    h.advance(14 * 86400 + 1)  # a listing lives 14 days
    assert index.near("beans", *MUSANZE, h.now) == []


def test_nothing_near_says_so_and_another_place_searches_again() -> None:
    h = Harness()
    _list(h, F3, "I sell 50 kg of beans at 600 rwf", FAR)
    _open(h, B)
    h.tap(B, "farmer:buy")
    h.pick(B, "crop:beans")
    got = h.share(B, *MUSANZE)
    assert _text(got[-1]).startswith("No Beans on offer within 50 km of your location")
    got = h.say(B, "i Ruhango")  # typed at the results: the search moves there
    assert _text(got[-1]).startswith("1 offers of Beans near Ruhango")
    assert _rows(got[-1])[0]["description"].startswith("600 RWF/kg · 16.0 km")


def test_interest_reaches_the_farmer_in_their_language_and_accept_links_both() -> None:
    h = Harness()
    h.say(F1, "hi")
    h.pick(F1, "menu:language")
    h.pick(F1, "lang:fr")
    lid = _list(h, F1, "je vends 300 kg de haricots à 700 rwf", NEAR)
    _open(h, B)
    h.say(B, "I want 200 kg of beans near Musanze")
    got = h.pick(B, f"offer:{lid}")
    assert _text(got[-1]).startswith("Beans: 300 kg at 700 RWF per kg, 5.0 km away.")
    assert _buttons(got[-1]) == ["offer:interested", "offer:back"]
    since = len(h.sent)
    h.deliver(dataclasses.replace(c.button(B, "offer:interested"), profile_name="Aline"))
    assert "farmer was told" in _text(h.to(B, since)[0])
    [asked] = h.to(F1, since)
    assert _text(asked).startswith("Aline est intéressé par vos Haricots (300 kg à 700 RWF "
                                   "par kg), à 5.0 km de vous. Il cherche 200 kg.")
    accept, decline = _buttons(asked)
    assert accept.startswith("produce:accept:")
    assert decline.startswith("produce:decline:")
    again = len(h.sent)
    h.tap(B, "offer:interested")  # twice: not sent twice
    assert "already told" in _text(h.to(B, again)[0])
    assert h.to(F1, again) == []

    since = len(h.sent)
    h.tap(F1, accept)
    assert f"https://wa.me/{B}" in _text(h.to(F1, since)[0])
    assert f"https://wa.me/{F1}" in _text(h.to(B, since)[0])
    assert [t for _, t, _ in h.domain][-2:] == ["ProduceInterest", "ProduceMatched"]
    conv = h.conv(B)
    assert (conv.flow, conv.data.get("outcome")) == ("farmer_market", "matched")
    late = len(h.sent)
    h.tap(F1, accept)  # a second tap: nothing open any more
    assert _text(h.to(F1, late)[0]) == "Cette offre n'est plus ouverte."


def test_a_declined_interest_and_a_closed_listing() -> None:
    h = Harness()
    lid = _list(h, F1, "I sell 300 kg of beans at 700 rwf", NEAR)
    _open(h, B)
    h.say(B, "beans in Musanze")
    h.pick(B, f"offer:{lid}")
    since = len(h.sent)
    h.tap(B, "offer:interested")
    decline = _buttons(h.to(F1, since)[0])[1]
    since = len(h.sent)
    h.tap(F1, decline)
    assert "declined your interest" in _text(h.to(B, since)[0])
    assert [t for _, t, _ in h.domain][-1] == "ProduceDeclined"

    # The farmer closes the listing: no longer found, and a late interest is told so.
    h.pick(F1, "menu:farmer")
    h.tap(F1, "farmer:mine")
    h.pick(F1, f"mine:{lid}")
    got = h.tap(F1, "manage:close")
    assert "no longer shown" in _text(got[0])
    assert h.model("farmer", ProduceIndex).near("beans", *MUSANZE, h.now) == []
    got = h.tap(B, "offer:back")
    assert _text(got[-1]).startswith("No Beans on offer")


def test_the_farmer_updates_the_quantity_a_bare_number_asks_the_unit() -> None:
    h = Harness()
    lid = _list(h, F1, "I sell 300 kg of beans at 700 rwf", NEAR)
    h.pick(F1, "menu:farmer")
    h.tap(F1, "farmer:mine")
    got = h.pick(F1, f"mine:{lid}")
    assert _buttons(got[-1]) == ["manage:qty", "manage:close"]
    h.tap(F1, "manage:qty")
    got = h.say(F1, "120")
    assert _rows(got[-1])[0]["id"] == "unit:kg:120"
    got = h.pick(F1, "unit:kg:120")
    assert _text(got[0]) == "Updated: 120 kg of Beans."
    [hit] = h.model("farmer", ProduceIndex).near("beans", *MUSANZE, h.now)
    assert (hit.listing.fields["quantity"], hit.listing.fields["unit"]) == (120.0, "kg")


def test_the_radius_and_lifetime_are_options() -> None:
    h = Harness(options={"farmer": FarmerOptions(radius_km=3, listing_ttl_s=60)})
    _list(h, F1, "I sell 300 kg of beans at 700 rwf", NEAR)
    assert h.model("farmer", ProduceIndex).near("beans", *MUSANZE, h.now) == []  # 5 km > 3
    assert len(h.model("farmer", ProduceIndex).near("beans", *NEAR, h.now)) == 1
    h.advance(61)
    assert h.model("farmer", ProduceIndex).near("beans", *NEAR, h.now) == []
    _open(h, F1)
    got = h.tap(F1, "farmer:mine")
    assert "no open listings" in _text(got[0])


def test_texts_fit_whatsapp() -> None:
    from streams.domains.farmer.catalog import TEXTS

    for lang in ("en", "fr", "rw"):
        for key in ("start.sell", "start.buy", "start.mine", "harvest.skip",
                    "offer.interested", "offer.back", "interest.accept", "interest.decline",
                    "manage.qty", "manage.close"):
            assert len(TEXTS.text(lang, key)) <= m.MAX_BUTTON_TITLE, (lang, key)
        for key in ("crop.button", "qty.unit.button", "results.button", "mine.button"):
            assert len(TEXTS.text(lang, key)) <= m.MAX_LIST_BUTTON, (lang, key)
        desc = TEXTS.text(lang, "results.row.desc", price="1,000,000", per="umufuka",
                          km="9999.9")
        assert len(desc) <= m.MAX_ROW_DESC
        desc = TEXTS.text(lang, "mine.row.desc", quantity="10,000,000", unit="imifuka",
                          price="1,000,000", per="umufuka", days=14)
        assert len(desc) <= m.MAX_ROW_DESC, (lang, len(desc))


def test_the_market_has_one_menu_row_and_the_menu_fits_a_list() -> None:
    from streams.domains import REGISTRY
    from streams.engine.domains import Domains, load

    keys = [e.key for e, _ in Domains.of(load(REGISTRY)).menu]
    assert keys.count("farmer") == 1
    assert len(keys) <= m.MAX_ROWS, keys  # 8 today: 2 rows left for new services


def test_text_at_the_results_that_names_nothing_is_not_understood() -> None:
    h = Harness()
    _open(h, B)
    h.say(B, "beans in Musanze")
    got = h.say(B, "bonjour")
    assert _text(got[0]) == "Sorry, I did not understand."
    got = h.say(B, "ibigori")  # another crop: searched
    assert _text(got[-1]).startswith("No Maize on offer within 50 km of Musanze")


class _NoContext(RuleBased):
    """A backend that reads each text alone, as an HTTP model may: "maize" alone reads
    as a purchase."""

    def read(self, text: str, session: UnderstandingSession | None = None) -> Understanding:
        return super().read(text)


def test_past_the_first_step_a_backend_without_context_does_not_change_the_side() -> None:
    h = Harness(rules=_NoContext(resolve_place=resolve))
    _open(h, F1)
    h.tap(F1, "farmer:sell")
    got = h.say(F1, "ibigori")
    assert h.understood[-1].intent.value == "buy_produce"  # what the backend said
    assert _text(got[-1]).startswith("How much Maize")  # still selling
    h.say(F1, "2 tonnes")
    h.say(F1, "300k")
    got = h.say(F1, "Musanze")
    assert _buttons(got[-1]) == ["harvest:skip"]
    h.tap(F1, "harvest:skip")
    assert [(e.crop, e.quantity, e.unit, e.price) for e in _listed(h)] == [
        ("maize", 2.0, "tonne", 300_000)]


def test_kinyarwanda_rows_put_the_unit_first() -> None:
    h = Harness()
    lid = _list(h, F1, "I sell 300 kg of beans at 700 rwf", NEAR)
    h.say(B, "hi")
    h.pick(B, "menu:language")
    h.pick(B, "lang:rw")
    h.pick(B, "menu:farmer")
    got = h.say(B, "ndashaka ibishyimbo i Musanze")
    [row] = _rows(got[-1])
    assert (row["id"], row["title"]) == (f"offer:{lid}", "ibiro 300")
