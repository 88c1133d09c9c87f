"""The rentals domain through the pure engine (harness): list a property, find a place
under a ceiling, contact the owner, my listings, renewal and expiry, bad inputs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from types import SimpleNamespace
from typing import Any, cast

from schemas.envelope import InboundEvent
from streams.domains.rentals.events import (
    RentalContacted,
    RentalExpired,
    RentalInquiry,
    RentalListed,
    RentalRemoved,
    RentalRenewed,
    RentalRented,
)
from streams.domains.rentals.index import RentalsIndex
from streams.domains.rentals.options import RentalsOptions
from streams.engine.model import Ctx, Options
from streams.listings.conversation import image_key
from tests.support import conversations as c
from tests.support.engine_harness import Harness

OW, S, S2 = "250788400001", "250788400002", "250788400003"  # owner, seekers
KIGALI = (-1.9441, 30.0619)
FAR = (-1.4941, 30.0619)
DAY = 86400.0
MAIN_MENU = "Hello! What would you like to do?"


def _h(**kw: float) -> Harness:
    return Harness(opts=Options(idle_s=100 * DAY), options={"rentals": RentalsOptions(**kw)})


def texts(bodies: list[dict[str, Any]]) -> list[str]:
    return [c.body_text(b) for b in bodies]


def said(bodies: list[dict[str, Any]]) -> list[str]:
    got = texts(bodies)
    assert got[-1] == MAIN_MENU
    return got[:-1]


def key_of(media_id: str) -> str:
    """The store key of a test photo: the sha256 of some bytes named by the media id."""
    return hashlib.sha256(media_id.encode()).hexdigest()


def image(wa_id: str, media_id: str, sha256: bool = True) -> InboundEvent:
    """An image as Meta reports it: its id, mime type and (base64) sha256."""
    ev = c.text(wa_id, "")
    media = {"id": media_id, "mime_type": "image/jpeg"}
    if sha256:
        media["sha256"] = base64.b64encode(bytes.fromhex(key_of(media_id))).decode()
    return dataclasses.replace(ev, type="message.image", payload={
        **ev.payload, "type": "image", "image": media})


def document(wa_id: str) -> InboundEvent:
    ev = c.text(wa_id, "")
    return dataclasses.replace(ev, type="message.document", payload={
        **ev.payload, "type": "document", "document": {"id": "DOC1"}})


def list_one(h: Harness, who: str = OW, kind: str = "apartment", beds: str = "2",
             price: str = "300k", at: tuple[float, float] = KIGALI,
             photo: str | None = "MEDIA1") -> str:
    h.say(who, "hi")
    h.pick(who, "menu:rentals")
    h.tap(who, "rentals:list")
    h.pick(who, f"rtype:{kind}")
    h.say(who, beds)
    h.say(who, price)
    h.share(who, *at)
    if photo is None:
        h.tap(who, "rentals:skip")
    else:
        h.replies(image(who, photo))
    h.tap(who, "rentals:post")
    return next(e.listing_id for _, e in reversed(h.events) if isinstance(e, RentalListed))


def search(h: Harness, who: str = S, ceiling: str = "350k", beds: str | None = None,
           at: tuple[float, float] = KIGALI) -> list[dict[str, Any]]:
    h.say(who, "menu")
    h.pick(who, "menu:rentals")
    h.tap(who, "rentals:find")
    h.share(who, *at)
    h.say(who, ceiling)
    return h.tap(who, "rentals:any") if beds is None else h.say(who, beds)


def rows(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["title"], r["description"])
            for r in body["interactive"]["action"]["sections"][0]["rows"]]


def test_list_a_property_in_order_with_a_photo() -> None:
    h = _h()
    h.say(OW, "hi")
    assert c.row_ids(h.pick(OW, "menu:rentals")[0]) == [
        "rentals:list", "rentals:find", "rentals:mine"]
    assert c.row_ids(h.tap(OW, "rentals:list")[0]) == [
        "rtype:room", "rtype:apartment", "rtype:house", "rtype:commercial"]
    assert "How many bedrooms?" in texts(h.pick(OW, "rtype:house"))[0]
    assert "monthly rent" in texts(h.say(OW, "3"))[0]
    assert "Where is it?" in texts(h.say(OW, "frw 450000"))[0]
    assert c.row_ids(h.say(OW, "Kimironko")[0]) == ["rentals:skip"]
    confirm = h.replies(image(OW, "MEDIA9"))[0]
    assert c.body_text(confirm) == (
        "List this for 30 days?\nHouse, 3 bedrooms\n450,000 RWF a month\nWhere: Kimironko\n"
        "(with a photo)")
    assert h.events == []
    h.tap(OW, "rentals:post")
    (who, ev), = h.events
    assert who == OW
    assert isinstance(ev, RentalListed)
    assert (ev.kind, ev.bedrooms, ev.price, ev.place, ev.district, ev.photo,
            ev.photo_key) == ("house", 3, 450_000, "Kimironko", "Gasabo", "MEDIA9",
                              key_of("MEDIA9"))
    assert ev.expires_at - ev.posted_at == 30 * DAY
    deadlines = h.conv(OW).deadlines
    assert deadlines[f"rent_renew:{ev.listing_id}"] == ev.expires_at - 3 * DAY
    assert deadlines[f"rent_expire:{ev.listing_id}"] == ev.expires_at


def test_prices_as_people_type_them_and_bad_inputs_asked_again() -> None:
    h = _h()
    h.say(OW, "hi")
    h.pick(OW, "menu:rentals")
    h.tap(OW, "rentals:list")
    assert "What kind" in texts(h.pick(OW, "rtype:boat"))[1]
    h.pick(OW, "rtype:room")
    assert "Type a number from 0 to 20" in texts(h.say(OW, "many"))[1]
    assert "Type a number from 0 to 20" in texts(h.say(OW, "21"))[1]
    h.say(OW, "1")
    for bad in ("cheap", "300k per day and more", "", "-5"):
        again = texts(h.say(OW, bad))
        assert again[0] == "Sorry, I did not understand.", bad
        assert "e.g. 300k" in again[1], bad
        h.say(OW, "menu")
        h.pick(OW, "menu:rentals")
        h.tap(OW, "rentals:list")
        h.pick(OW, "rtype:room")
        h.say(OW, "1")
    for good, amount in (("300k", 300_000), ("300,000", 300_000), ("300 000 RWF", 300_000),
                         ("frw 300000", 300_000)):
        h.say(OW, good)
        assert h.conv(OW).data["price"] == amount, good
        h.say(OW, "menu")
        h.pick(OW, "menu:rentals")
        h.tap(OW, "rentals:list")
        h.pick(OW, "rtype:room")
        h.say(OW, "1")
    h.say(OW, "250k")
    assert "Share its location" in texts(h.share(OW, 48.85, 2.35))[1]  # Paris
    h.share(OW, *KIGALI)
    again = texts(h.replies(document(OW)))  # a photo that is not an image
    assert again == ["Sorry, I did not understand.", "Send one photo of the place, or tap Skip."]
    assert texts(h.say(OW, "here"))[1] == "Send one photo of the place, or tap Skip."
    h.tap(OW, "rentals:skip")
    assert texts(h.tap(OW, "rentals:cancel")) == ["Nothing was listed.", MAIN_MENU]
    assert h.events == []


def test_found_under_a_ceiling_and_not_under_a_lower_one() -> None:
    h = _h()
    lid = list_one(h, price="300k")
    found = search(h, ceiling="300,000")
    assert rows(found[0]) == [("Apartment · 2 bd", "300,000 RWF/month · 0.0 km")]
    assert c.row_ids(found[0]) == [f"rent:{lid}"]
    assert said(search(h, ceiling="299k")) == [
        "No places within 25 km at 299,000 RWF or less right now."]
    assert said(search(h, ceiling="1m", beds="3")) == [
        "No places within 25 km at 1,000,000 RWF or less right now."]
    assert rows(search(h, ceiling="1m", beds="2")[0])[0][0] == "Apartment · 2 bd"
    assert said(search(h, at=FAR)) == [
        "No places within 25 km at 350,000 RWF or less right now."]
    again = texts(search(h, ceiling="a lot"))
    assert "most you can pay" in again[1]


def test_nearest_first_at_most_ten() -> None:
    h = _h()
    for i in range(12):
        list_one(h, f"2507884100{i:02d}", at=(-1.9441 + i * 0.001, 30.0619), price=f"{100 + i}k")
    got = rows(search(h, ceiling="1m")[0])
    assert len(got) == 10
    assert [d.split(" RWF")[0] for _, d in got] == [f"{100 + i},000" for i in range(10)]


def test_contact_shows_the_photo_notifies_the_owner_and_links_both() -> None:
    h = _h()
    lid = list_one(h)
    search(h)
    shown = h.pick(S, f"rent:{lid}")
    assert shown[0]["type"] == "image"  # the stored photo, skipped when not (yet) stored
    assert shown[0]["image"] == {"wastream_media": key_of("MEDIA1"),
                                 "caption": "Apartment · 2 bd", "wastream_if_stored": True}
    assert c.body_text(shown[1]) == (
        "Apartment, 2 bedrooms\n300,000 RWF a month\nDistance: 0.0 km")
    mark = len(h.sent)
    ev = dataclasses.replace(c.button(S, f"rentals:contact:{lid}"), profile_name="Grace")
    assert said(h.replies(ev)) == ["The owner has your request and will answer here."]
    note = h.to(OW, mark)
    assert texts(note) == ["Grace is interested in your Apartment, 2 bedrooms."]
    assert c.row_ids(note[0]) == [f"rentinq:{lid}:{S}"]
    assert h.events[-1] == (S, RentalInquiry(listing_id=lid, owner=OW, seeker=S, name="Grace"))
    mark = len(h.sent)
    assert texts(h.tap(OW, f"rentinq:{lid}:{S}")) == [
        f"Contact Grace on WhatsApp: https://wa.me/{S}"]
    assert texts(h.to(S, mark)) == [f"The owner wants to talk to you: https://wa.me/{OW}"]
    assert h.events[-1] == (OW, RentalContacted(listing_id=lid, owner=OW, seeker=S))
    assert texts(h.tap(OW, f"rentinq:{lid}:{S}")) == ["This request is no longer open."]
    n = len(h.events)
    search(h)
    h.pick(S, f"rent:{lid}")
    assert said(h.tap(S, f"rentals:contact:{lid}")) == ["You already contacted this owner."]
    assert len(h.events) == n


def test_no_photo_no_image() -> None:
    h = _h()
    lid = list_one(h, photo=None)
    search(h)
    shown = h.pick(S, f"rent:{lid}")
    assert [b["type"] for b in shown] == ["interactive"]


def test_a_photo_without_a_stated_sha256_is_not_sent() -> None:
    """Nothing to find it by in the store: the details go without it."""
    h = _h()
    h.say(OW, "hi")
    h.pick(OW, "menu:rentals")
    h.tap(OW, "rentals:list")
    h.pick(OW, "rtype:room")
    h.say(OW, "1")
    h.say(OW, "80k")
    h.share(OW, *KIGALI)
    h.replies(image(OW, "MEDIA2", sha256=False))
    h.tap(OW, "rentals:post")
    ev = next(e for _, e in h.events if isinstance(e, RentalListed))
    assert (ev.photo, ev.photo_key) == ("MEDIA2", "")
    search(h)
    assert [b["type"] for b in h.pick(S, f"rent:{ev.listing_id}")] == ["interactive"]


def test_the_store_key_reads_meta_base64_and_hex() -> None:
    hexkey = key_of("X")
    for stated, want in [(base64.b64encode(bytes.fromhex(hexkey)).decode(), hexkey),
                         (hexkey.upper(), hexkey), ("not base64!", None),
                         (base64.b64encode(b"short").decode(), None)]:
        ev = dataclasses.replace(image(OW, "X"), payload={
            "type": "image", "image": {"id": "X", "sha256": stated}})
        assert image_key(cast(Ctx, SimpleNamespace(event=ev))) == want, stated


def test_my_listings_mark_rented_and_remove() -> None:
    h = _h()
    a = list_one(h, price="200k")
    h.now += 10
    b = list_one(h, kind="room", beds="1", price="80k")
    search(h)
    h.pick(S, f"rent:{a}")
    h.tap(S, f"rentals:contact:{a}")
    h.say(OW, "menu")
    h.pick(OW, "menu:rentals")
    mine = h.tap(OW, "rentals:mine")[0]
    assert rows(mine) == [("Room · 1 bd", "80,000 RWF/month · 0 requests"),
                          ("Apartment · 2 bd", "200,000 RWF/month · 1 requests")]
    h.pick(OW, f"mylist:{a}")
    assert said(h.tap(OW, "rentals:rented")) == [
        "Apartment, 2 bedrooms is marked rented and no longer shown."]
    assert h.events[-1] == (OW, RentalRented(listing_id=a))
    h.pick(OW, "menu:rentals")
    h.tap(OW, "rentals:mine")
    h.pick(OW, f"mylist:{b}")
    assert said(h.tap(OW, "rentals:remove")) == ["Room, 1 bedrooms is removed."]
    assert h.events[-1] == (OW, RentalRemoved(listing_id=b))
    index = h.model("rentals", RentalsIndex)
    assert index.get(a) is not None
    assert index.get(a).status == "closed"
    assert index.get(b) is None
    assert said(search(h, ceiling="1m")) == [
        "No places within 25 km at 1,000,000 RWF or less right now."]
    assert h.conv(OW).deadlines.keys() <= {"idle"}
    h.pick(OW, "menu:rentals")
    assert said(h.tap(OW, "rentals:mine")) == ["You have no open listings."]


def test_renewal_asked_three_days_before_and_renewed() -> None:
    h = _h()
    lid = list_one(h)
    mark = len(h.sent)
    h.advance(27 * DAY - 1)
    assert h.to(OW, mark) == []
    h.advance(2)
    ask = h.to(OW, mark)
    assert texts(ask) == ["Your listing Apartment, 2 bedrooms expires in 3 days. Renew it?"]
    assert c.row_ids(ask[0]) == [f"rentrenew:{lid}"]
    h.say(OW, "menu")  # the button stays valid from anywhere
    assert texts(h.tap(OW, f"rentrenew:{lid}")) == [
        "Apartment, 2 bedrooms is renewed for 30 days."]
    renewed = h.events[-1][1]
    assert isinstance(renewed, RentalRenewed)
    assert renewed.expires_at == h.now + 30 * DAY
    h.advance(5 * DAY)  # past the first expiry: still listed
    assert rows(search(h)[0])
    assert not any(isinstance(e, RentalExpired) for _, e in h.events)
    # a worker that only saw the renewal (its read of the log began later) holds it too
    fresh = RentalsIndex()
    fresh.apply(OW, renewed, h.now)
    assert fresh.get(lid) is not None
    assert fresh.get(lid).expires_at == renewed.expires_at


def test_expiry_without_renewal() -> None:
    h = _h()
    lid = list_one(h)
    mark = len(h.sent)
    h.advance(27 * DAY)
    h.advance(3 * DAY + 1)
    assert texts(h.to(OW, mark)) == [
        "Your listing Apartment, 2 bedrooms expires in 3 days. Renew it?",
        "Your listing Apartment, 2 bedrooms has expired and is no longer shown."]
    assert h.events[-1] == (OW, RentalExpired(listing_id=lid))
    assert texts(h.tap(OW, f"rentrenew:{lid}")) == ["This listing is no longer open."]
    assert said(search(h)) == ["No places within 25 km at 350,000 RWF or less right now."]


def test_texts_in_french_and_kinyarwanda_and_limits() -> None:
    from streams.domains.rentals.catalog import TEXTS
    from streams.engine import messages as m

    for lang, ask in (("fr", "Combien de chambres ?"), ("rw", "Ifite ibyumba bingahe?")):
        h = _h()
        h.say(OW, "hi")
        h.pick(OW, "menu:language")
        h.tap(OW, f"lang:{lang}")
        h.pick(OW, "menu:rentals")
        h.tap(OW, "rentals:list")
        assert ask in texts(h.pick(OW, "rtype:room"))[0]
    for lang in ("en", "fr", "rw"):
        for key in TEXTS.messages[lang]:
            if key.startswith(("button.", "type.")) or key.endswith(".button"):
                assert len(TEXTS.text(lang, key)) <= m.MAX_BUTTON_TITLE, (lang, key)
        for kind in ("room", "apartment", "house", "commercial"):
            row = TEXTS.text(lang, "find.row", kind=TEXTS.text(lang, f"type.{kind}"),
                             bedrooms=20)
            assert len(row) <= m.MAX_ROW_TITLE, row
        assert len(TEXTS.text(lang, "find.row.desc", price="10,000,000", km="999.9")) <= 72
        assert len(TEXTS.text(lang, "mine.row", price="10,000,000", count=999)) <= 72
