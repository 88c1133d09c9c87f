"""The farmer's side of ``farmer_market``: the quantity with its unit (a number without
one is asked again, with the units to pick), the price per unit, the place (shared by
``need``), an optional harvest date, then ``ProduceListed``. The farmer's listings are
kept in the domain's slot of their conversation (``manage`` updates and closes them)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from streams.domains.farmer.catalog import say, t
from streams.domains.farmer.events import ProduceListed
from streams.domains.farmer.need import next_step, place_name
from streams.domains.farmer.options import NAME, opts
from streams.domains.farmer.prompts import (
    bare_number,
    crop_name,
    days_left,
    find_price,
    parse_day,
    per_name,
    picked_quantity,
    shown,
    today,
    unit_list,
)
from streams.engine import messages as m
from streams.engine.flows import Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import finish, learn, session
from streams.listings import Quantity, find_quantity, parse_money, parse_quantity
from streams.places import resolve

_PER_UNIT = re.compile(r"\s*(?:/|per |par |ku |kuri )\s*\w+\.?$", re.IGNORECASE)


def listings(conv: Conv, now: float) -> dict[str, dict[str, Any]]:
    """The farmer's open, unexpired listings by id (the expired ones forgotten)."""
    slot = conv.slot(NAME)
    live = {k: v for k, v in slot.get("listings", {}).items() if v["expires_at"] > now}
    slot["listings"] = live
    return live


def _crop(conv: Conv) -> str:
    return crop_name(session(conv).understood.crop or "", conv.lang)


def ask_quantity(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "qty.ask", crop=_crop(conv))]


def read_quantity(inp: Input, out: Out, conv: Conv) -> Quantity | Go | None:
    """A quantity with its unit typed or picked; a bare number goes to the unit list
    (``Go``); anything else is said to be unreadable (None)."""
    q = picked_quantity(inp) or parse_quantity(inp.text) or find_quantity(inp.text)
    if q is not None:
        return q
    bare = bare_number(inp.text) if inp.kind == "text" else None
    if bare is not None:
        return Go(step="unit", data={"bare": bare})
    out.replies.append(say(conv, "qty.bad"))
    return None


def accept_quantity(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    q = read_quantity(inp, out, conv)
    if not isinstance(q, Quantity):
        return q
    learn(conv, quantity=q.amount, unit=q.unit.value)
    return next_step(conv)


def ask_unit(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [unit_list(conv, float(conv.data.get("bare", 1)))]


def accept_unit(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    q = read_quantity(inp, out, conv)
    if isinstance(q, Go):
        return Go(step="unit", data=q.data)  # another bare number: its units
    if q is None:
        return None
    learn(conv, quantity=q.amount, unit=q.unit.value)
    return next_step(conv)


def ask_price(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "price.ask", per=per_name(session(conv).understood.unit or "", conv.lang))]


def accept_price(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    text = _PER_UNIT.sub("", inp.text.strip())  # "800 per kg", "800/kg"
    price = parse_money(text) or find_price(inp.text)
    if inp.kind != "text" or price is None:
        out.replies.append(say(conv, "price.bad"))
        return None
    learn(conv, price=price)
    return next_step(conv)


def ask_harvest(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "harvest.ask"),
                           [m.Option("harvest:skip", t(conv, "harvest.skip"))])]


def accept_harvest(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "harvest:skip":
        return _list(ctx, conv, out, "")
    day = parse_day(inp.text, today(ctx.now, ctx.opts.tz)) if inp.kind == "text" else None
    if day is None:
        out.replies.append(say(conv, "harvest.bad"))
        return None
    return _list(ctx, conv, out, day.isoformat())


def _list(ctx: Ctx, conv: Conv, out: Out, harvest: str) -> Go:
    """Emit ``ProduceListed`` and keep the listing in the farmer's slot."""
    u = session(conv).understood
    if (u.crop is None or u.quantity is None or u.unit is None or u.price is None
            or u.lat is None or u.lon is None):
        return next_step(conv)  # not reached: this step comes after all of them
    lid = hashlib.sha256(ctx.event.event_id.encode()).hexdigest()[:16]
    expires = ctx.now + opts(ctx).listing_ttl_s
    p = resolve(u.place) if u.place else None
    ev = ProduceListed(listing_id=lid, crop=u.crop, quantity=u.quantity, unit=u.unit,
                       price=int(u.price), lat=u.lat, lon=u.lon, listed_at=ctx.now,
                       expires_at=expires, place=u.place or "",
                       district=p.district if p is not None else "", harvest_date=harvest)
    out.domain.append(ev)
    listings(conv, ctx.now)[lid] = {
        "crop": ev.crop, "quantity": ev.quantity, "unit": ev.unit, "price": ev.price,
        "place": ev.place, "expires_at": expires}
    finish(conv, "listed")
    out.replies.append(say(conv, "listed", **shown(listings(conv, ctx.now)[lid], conv.lang),
                           place=place_name(conv), days=days_left(expires, ctx.now)))
    return Go(step="done", prompt=False)
