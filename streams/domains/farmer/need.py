"""What the farmer's and the buyer's sides of ``farmer_market`` share: the agent's turn
folded into the session with the listings' parsers for amounts, the crop and place
steps, and where to go next (ask for what is missing, in order)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from streams.domains.farmer.catalog import say, t
from streams.domains.farmer.prompts import crop_list, find_price, picked_crop, place_of
from streams.engine import messages as m
from streams.engine.flows import Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import heard, learn, session
from streams.listings import find_quantity
from streams.understanding.model import UNDERSTOOD, Intent, Understanding

FLOW_NAME = "farmer_market"  # an agent flow (WASTREAM_AGENT_FLOWS): see agent_sessions
SELL, BUY = Intent.SELL_PRODUCE, Intent.BUY_PRODUCE


def hear(ctx: Ctx, conv: Conv, inp: Input) -> Understanding | None:
    """Fold the agent's understanding of this text into the session, its quantity and
    price as the listings' parsers read them: a quantity only with its unit
    (``find_quantity``), a price only with its currency (``parse_money``'s grammar);
    what this text does not give keeps what the session had. Past the first step the
    side (selling or buying) is the session's: a backend that reads "maize" alone as a
    purchase (the HTTP one may ignore the context) does not turn a farmer into a buyer.
    None when the agent read nothing (the step did not ask, or the input is no text)."""
    before = session(conv).understood
    u = heard(ctx, conv)
    if u is None:
        return None
    fields: dict[str, Any] = {}
    if conv.step != "start" and before.intent in (SELL, BUY) and u.intent != before.intent:
        fields = {f: getattr(u, f) if getattr(u, f) is not None else getattr(before, f)
                  for f in UNDERSTOOD if f not in ("quantity", "unit", "price")}
        fields["intent"] = before.intent.value
        u = replace(u, intent=before.intent)
    kept = before if u.intent in (before.intent, Intent.UNKNOWN) or (
        before.intent is Intent.UNKNOWN) else Understanding()
    q = find_quantity(inp.text)
    price = find_price(inp.text)
    return learn(conv, **fields, quantity=q.amount if q else kept.quantity,
                 unit=q.unit.value if q else kept.unit,
                 price=price if price is not None else kept.price)


def intent(conv: Conv) -> Intent:
    return session(conv).understood.intent


def next_step(conv: Conv) -> Go:
    """Ask for what the session still misses, in order, then list (the farmer) or search
    (the buyer)."""
    u = session(conv).understood
    if u.intent not in (SELL, BUY):
        return Go(step="start")
    if u.crop is None:
        return Go(step="crop")
    if u.intent is SELL:
        if u.quantity is None or u.unit is None:
            return Go(step="quantity")
        if u.price is None:
            return Go(step="price")
    if u.lat is None or u.lon is None:
        return Go(step="place")
    return Go(step="harvest" if u.intent is SELL else "results")


def ask_crop(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    key = "crop.sell.body" if intent(conv) is SELL else "crop.buy.body"
    return [crop_list(conv, key)]


def accept_crop(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    crop = picked_crop(inp)
    if crop is not None:
        learn(conv, crop=crop)
        return next_step(conv)
    u = hear(ctx, conv, inp)
    if u is None or u.crop is None:
        out.replies.append(say(conv, "crop.unknown"))
        return None  # re-prompt: the crop list again
    return next_step(conv)


def ask_place(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    key = "place.sell.ask" if intent(conv) is SELL else "place.buy.ask"
    return [m.location_request_body(conv.wa_id, t(conv, key))]


def accept_place(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    u = hear(ctx, conv, inp)
    if u is None or u.lat is None:
        where = place_of(inp)  # a shared location, or a name the gazetteer knows
        if where is None:
            out.replies.append(say(conv, "place.unknown"))
            return None  # re-prompt: the location request again
        lat, lon, name, _ = where
        learn(conv, place=name or None, lat=lat, lon=lon)
    return next_step(conv)


def place_name(conv: Conv) -> str:
    return session(conv).understood.place or t(conv, "here")
