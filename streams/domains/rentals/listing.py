"""Rentals · list a property: type → bedrooms → monthly price → place → photo (or
Skip) → confirm. Nothing is stored until the owner confirms (``RentalListed``). The
listing lives WASTREAM_RENTALS_LIFETIME_S; two deadlines of the owner's conversation
ask for a renewal (``rent_renew:<id>``) and end it (``rent_expire:<id>``)."""

from __future__ import annotations

from typing import Any

from streams.domains.rentals import kept
from streams.domains.rentals.catalog import say, t
from streams.domains.rentals.events import RentalListed
from streams.domains.rentals.options import opts
from streams.engine import messages as m
from streams.engine.flows import MENU, Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.listings import parse_money
from streams.listings.conversation import image_id, image_key, new_id, read_spot

TYPES = ("room", "apartment", "house", "commercial")
MAX_BEDROOMS = 20


def rwf(amount: int) -> str:
    return f"{amount:,}"


def label(conv: Conv, p: dict[str, Any]) -> str:
    """How a listing is named to its owner: "Apartment, 2 bedrooms"."""
    return t(conv, "label", kind=t(conv, f"type.{p['kind']}"), bedrooms=p["bedrooms"])


def kind_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    rows = [m.Option(f"rtype:{k}", t(conv, f"type.{k}")) for k in TYPES]
    return [m.list_body(conv.wa_id, t(conv, "list.kind"), t(conv, "list.kind.button"), rows,
                        section=t(conv, "list.kind.button"))]


def kind(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    got = inp.choice.removeprefix("rtype:") if inp.choice.startswith("rtype:") else ""
    if not got and inp.word.isdigit() and 1 <= int(inp.word) <= len(TYPES):
        got = TYPES[int(inp.word) - 1]
    if got not in TYPES:
        return None
    return Go(step="bedrooms", data={"kind": got})


def read_count(inp: Input) -> int | None:
    """A number of bedrooms, 0 to 20, as typed."""
    word = inp.word
    if inp.kind != "text" or not word.isdigit() or int(word) > MAX_BEDROOMS:
        return None
    return int(word)


def bedrooms_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "list.bedrooms", max=MAX_BEDROOMS)]


def bedrooms(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    got = read_count(inp)
    return None if got is None else Go(step="price", data={"bedrooms": got})


def price_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "list.price")]


def price(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    got = parse_money(inp.text) if inp.kind == "text" else None
    return None if not got else Go(step="place", data={"price": got})


def place_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.location_request_body(conv.wa_id, t(conv, "list.place"))]


def place(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    spot = read_spot(inp)
    if spot is None:
        return None
    return Go(step="photo", data={"lat": spot.lat, "lon": spot.lon, "place": spot.name,
                                  "district": spot.district})


def photo_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "list.photo"),
                           [m.Option("rentals:skip", t(conv, "button.skip"))])]


def photo(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """An image (its Meta id, and its store key: the download runs beside the
    conversation, never waited for), or Skip; anything else is asked again."""
    if inp.choice == "rentals:skip":
        return Go(step="confirm", data={"photo": "", "photo_key": ""})
    media = image_id(ctx)
    if media is None:
        return None
    return Go(step="confirm", data={"photo": media, "photo_key": image_key(ctx) or ""})


def confirm_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    d = conv.data
    body = t(conv, "list.confirm", what=label(conv, d), price=rwf(d["price"]),
             place=d.get("place") or d["district"], days=f"{opts(ctx).lifetime_s / 86400:g}",
             photo=t(conv, "list.with_photo" if d.get("photo") else "list.no_photo"))
    return [m.buttons_body(conv.wa_id, body, [
        m.Option("rentals:post", t(conv, "button.post")),
        m.Option("rentals:cancel", t(conv, "button.cancel")),
    ])]


def confirm(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "rentals:cancel":
        out.replies.append(say(conv, "list.cancelled"))
        return MENU
    if inp.choice != "rentals:post":
        return None
    d = conv.data
    listing = {
        "listing_id": new_id(ctx), "kind": d["kind"], "bedrooms": d["bedrooms"],
        "price": d["price"], "lat": d["lat"], "lon": d["lon"], "place": d.get("place", ""),
        "district": d["district"], "photo": d.get("photo", ""), "posted_at": ctx.now,
        "expires_at": ctx.now + opts(ctx).lifetime_s, "photo_key": d.get("photo_key", ""),
    }
    out.domain.append(RentalListed(**listing))
    keep(ctx, conv, listing)
    out.replies.append(say(conv, "list.done", days=f"{opts(ctx).lifetime_s / 86400:g}"))
    return MENU


def keep(ctx: Ctx, conv: Conv, listing: dict[str, Any]) -> None:
    """Hold my open listing and set its renewal and expiry deadlines."""
    lid, until = listing["listing_id"], listing["expires_at"]
    kept.posts(conv)[lid] = listing
    ask_at = until - opts(ctx).renew_before_s
    if ask_at > ctx.now:
        conv.deadlines[f"rent_renew:{lid}"] = ask_at
    conv.deadlines[f"rent_expire:{lid}"] = until
