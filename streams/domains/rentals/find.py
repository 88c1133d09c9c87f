"""Rentals · find a place: a place (shared, typed, or the last one) → a price ceiling
→ a minimum number of bedrooms (or Skip) → up to 10 nearest matches → details (with
the photo) → Contact the owner (``RentalInquiry``, sent to the owner's conversation as
``wastream.rentals.inquiry``)."""

from __future__ import annotations

from typing import Any

from streams.domains.rentals import kept
from streams.domains.rentals.catalog import say, t
from streams.domains.rentals.events import RentalInquiry
from streams.domains.rentals.index import rentals
from streams.domains.rentals.listing import read_count, rwf
from streams.domains.rentals.options import opts
from streams.engine import messages as m
from streams.engine.common import haversine_km, km
from streams.engine.flows import MENU, Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.listings import Hit, Listing, parse_money
from streams.listings.conversation import read_spot, sender_name


def where_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    asks = [m.location_request_body(conv.wa_id, t(conv, "find.where"))]
    if kept.last_spot(conv):
        asks.append(m.buttons_body(conv.wa_id, t(conv, "find.last"),
                                   [m.Option("rentals:last", t(conv, "button.last"))]))
    return asks


def where(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    last = kept.last_spot(conv)
    if inp.choice == "rentals:last" and last:
        lat, lon = last
    else:
        spot = read_spot(inp)
        if spot is None:
            return None
        lat, lon = spot.lat, spot.lon
        kept.set_last_spot(conv, lat, lon)
    return Go(step="ceiling", data={"lat": lat, "lon": lon})


def ceiling_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "find.ceiling")]


def ceiling(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    got = parse_money(inp.text) if inp.kind == "text" else None
    return None if not got else Go(step="beds", data={"ceiling": got})


def beds_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "find.beds"),
                           [m.Option("rentals:any", t(conv, "button.skip"))])]


def beds(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    got = 0 if inp.choice == "rentals:any" else read_count(inp)
    if got is None:
        return None
    conv.data["beds"] = got
    return _results(ctx, conv, out)


def _results(ctx: Ctx, conv: Conv, out: Out) -> Go:
    d = conv.data
    found = rentals(ctx).near(d["lat"], d["lon"], ctx.now, conv.wa_id, d["ceiling"], d["beds"])
    if not found:
        out.replies.append(say(conv, "find.none", radius=f"{opts(ctx).radius_km:g}",
                               price=rwf(d["ceiling"])))
        return MENU
    out.replies.append(m.list_body(
        conv.wa_id, t(conv, "find.body", count=len(found)), t(conv, "find.button"),
        [_row(conv, hit) for hit in found], section=t(conv, "find.button")))
    return Go(step="results", data={"listed": [h.listing.id for h in found]}, prompt=False)


def _row(conv: Conv, hit: Hit) -> m.Option:
    f = hit.listing.fields
    title = t(conv, "find.row", kind=t(conv, f"type.{f['kind']}"), bedrooms=f["bedrooms"])
    desc = t(conv, "find.row.desc", price=rwf(int(str(f["price"]))), km=km(hit.km))
    return m.Option(f"rent:{hit.listing.id}", title, desc)


def results_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    out = Out()
    go = _results(ctx, conv, out)
    conv.data.update(go.data)
    return out.replies


def results(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    listed: list[str] = conv.data.get("listed") or []
    lid = inp.choice.removeprefix("rent:") if inp.choice.startswith("rent:") else ""
    if not lid and inp.word.isdigit() and 1 <= int(inp.word) <= len(listed):
        lid = listed[int(inp.word) - 1]
    if lid not in listed:
        return None
    listing = rentals(ctx).get(lid)
    if listing is None or not listing.live(ctx.now):
        out.replies.append(say(conv, "contact.gone"))
        return _results(ctx, conv, out)
    out.replies.extend(_details(ctx, conv, listing))
    return Go(step="detail", data={"listing": lid}, prompt=False)


def _details(ctx: Ctx, conv: Conv, listing: Listing) -> list[dict[str, Any]]:
    f = listing.fields
    dist = haversine_km(conv.data["lat"], conv.data["lon"], listing.lat, listing.lon)
    text = t(conv, "detail.body", kind=t(conv, f"type.{f['kind']}"), bedrooms=f["bedrooms"],
             price=rwf(int(str(f["price"]))), km=km(dist))
    if f.get("place"):
        text += "\n" + t(conv, "detail.place", place=f["place"])
    shown = []
    if f.get("photo_key"):
        # Before the details, skipped by the sender when the download is not (yet)
        # stored: the details never wait for it nor fail with it.
        caption = t(conv, "find.row", kind=t(conv, f"type.{f['kind']}"), bedrooms=f["bedrooms"])
        shown.append(m.stored_image_body(conv.wa_id, str(f["photo_key"]), caption,
                                         if_stored=True))
    shown.append(m.buttons_body(conv.wa_id, text, [
        m.Option(f"rentals:contact:{listing.id}", t(conv, "button.contact_owner"))]))
    return shown


def detail_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    listing = rentals(ctx).get(conv.data.get("listing", ""))
    if listing is None or not listing.live(ctx.now):
        return [say(conv, "contact.gone")]
    return _details(ctx, conv, listing)


def detail(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """The Contact tap: once per listing; the owner is told with my WhatsApp name."""
    lid = conv.data.get("listing", "")
    if inp.choice != f"rentals:contact:{lid}":
        return None
    listing = rentals(ctx).get(lid)
    if listing is None or not listing.live(ctx.now):
        out.replies.append(say(conv, "contact.gone"))
        return MENU
    done = kept.asked(conv, ctx.now)
    if lid in done:
        out.replies.append(say(conv, "contact.again"))
        return MENU
    done[lid] = listing.expires_at
    name = sender_name(ctx, f"+{conv.wa_id}")
    out.domain.append(RentalInquiry(listing_id=lid, owner=listing.owner, seeker=conv.wa_id,
                                    name=name))
    out.internal.append((listing.owner, "wastream.rentals.inquiry",
                         {"listing_id": lid, "seeker": conv.wa_id, "name": name}))
    out.replies.append(say(conv, "contact.sent"))
    return MENU
