"""The buyer's side of ``farmer_market``: live listings of the crop within the radius of
the buyer's place, nearest first with quantity, price and distance; one listing shown
with "I'm interested", which tells the farmer (``interest`` carries it on)."""

from __future__ import annotations

import hashlib
from typing import Any

from streams.domains.farmer import interest
from streams.domains.farmer.catalog import say, t
from streams.domains.farmer.events import ProduceInterest
from streams.domains.farmer.index import produce
from streams.domains.farmer.need import hear, next_step, place_name
from streams.domains.farmer.options import opts
from streams.domains.farmer.prompts import amount, crop_name, shown
from streams.engine import messages as m
from streams.engine.common import haversine_km, km
from streams.engine.flows import Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import finish, session
from streams.listings import Hit


def hits(ctx: Ctx, conv: Conv) -> list[Hit]:
    """The listings of the session's crop near its place (the buyer's own left out)."""
    u = session(conv).understood
    if u.crop is None or u.lat is None or u.lon is None:
        return []
    return produce(ctx).near(u.crop, u.lat, u.lon, ctx.now, exclude_owner=conv.wa_id)


def ask_results(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    u = session(conv).understood
    found = hits(ctx, conv)
    crop = crop_name(u.crop or "", conv.lang)
    if not found:
        return [say(conv, "results.none", crop=crop, radius=amount(opts(ctx).radius_km),
                    place=place_name(conv))]
    rows = []
    for h in found:
        f = shown(h.listing.fields, conv.lang)
        rows.append(m.Option(f"offer:{h.listing.id}", t(conv, "results.row", **f),
                             t(conv, "results.row.desc", price=f["price"], per=f["per"],
                               km=km(h.km))))
    return [m.list_body(conv.wa_id, t(conv, "results.body", count=len(found), crop=crop,
                                      place=place_name(conv)),
                        t(conv, "results.button"), rows, section=t(conv, "results.button"))]


def accept_results(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """A listing picked; or another crop or place typed (searched again); or a button of
    the last listing shown (the buyer stays here after "I'm interested")."""
    if inp.choice in ("offer:interested", "offer:back"):
        return accept_offer(ctx, conv, inp, out)
    if inp.choice.startswith("offer:"):
        if _hit(ctx, conv, inp.choice[6:]) is None:
            out.replies.append(say(conv, "interest.gone"))
            return Go(step="results")
        return Go(step="offer", data={"offer": inp.choice[6:]})
    turn = ctx.understanding
    if hear(ctx, conv, inp) is None or turn is None or not (turn.crop or turn.lat):
        return None  # neither a crop nor a place: asked again
    return next_step(conv)


def _hit(ctx: Ctx, conv: Conv, listing_id: str) -> Hit | None:
    """The listing if it is still live, with its distance from the buyer's place."""
    u = session(conv).understood
    got = produce(ctx).listing(listing_id)
    if got is None or not got.live(ctx.now) or u.lat is None or u.lon is None:
        return None
    return Hit(got, haversine_km(u.lat, u.lon, got.lat, got.lon))


def ask_offer(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    hit = _hit(ctx, conv, str(conv.data.get("offer", "")))
    if hit is None:
        return [say(conv, "interest.gone")]
    date = str(hit.listing.fields.get("harvest_date") or "")
    harvest = t(conv, "offer.harvest", date=date) if date else ""
    body = t(conv, "offer.body", **shown(hit.listing.fields, conv.lang), km=km(hit.km),
             harvest=harvest)
    return [m.buttons_body(conv.wa_id, body, [
        m.Option("offer:interested", t(conv, "offer.interested")),
        m.Option("offer:back", t(conv, "offer.back"))])]


def accept_offer(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "offer:back":
        return Go(step="results")
    if inp.choice != "offer:interested":
        return None
    lid = str(conv.data.get("offer", ""))
    hit = _hit(ctx, conv, lid)
    if hit is None:
        out.replies.append(say(conv, "interest.gone"))
        return Go(step="results")
    if lid in conv.data.get("asked", ()):
        out.replies.append(say(conv, "interest.already"))
        return Go(step="results", prompt=False)
    _interested(ctx, conv, out, hit)
    return Go(step="results", prompt=False)


def _interested(ctx: Ctx, conv: Conv, out: Out, hit: Hit) -> None:
    """Emit ``ProduceInterest`` and tell the farmer, in the farmer's conversation."""
    u = session(conv).understood
    listing = hit.listing
    iid = hashlib.sha256(ctx.event.event_id.encode()).hexdigest()[:16]
    wanted = (f"{amount(u.quantity)} {u.unit}"
              if u.quantity is not None and u.unit is not None else "")
    crop = str(listing.fields.get("crop", ""))
    out.domain.append(ProduceInterest(interest_id=iid, listing_id=listing.id, buyer=conv.wa_id,
                                      farmer=listing.owner, crop=crop, km=round(hit.km, 1),
                                      wanted=wanted))
    interest.send(ctx, conv, out, {
        "interest_id": iid, "listing_id": listing.id, "buyer": conv.wa_id,
        "buyer_name": ctx.event.profile_name or "", "farmer": listing.owner, "crop": crop,
        "km": km(hit.km), "quantity": u.quantity, "unit": u.unit,
        "until": listing.expires_at})
    conv.data["asked"] = [*conv.data.get("asked", ()), listing.id]
    finish(conv, "interested")
    out.replies.append(say(conv, "interest.sent"))
