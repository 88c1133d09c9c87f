"""``general_broker``: a user writes a need in free text; the agent finds its service
category and place, the bot asks for just what is missing (a service list, a location
request), lists up to 10 active vendors of that category nearest first, and sends the
need to the vendor the user picks (``requests`` carries it on)."""

from __future__ import annotations

import hashlib
from typing import Any

from streams.domains.broker import requests
from streams.domains.broker.catalog import say, t
from streams.domains.broker.events import BrokerRequest
from streams.domains.broker.index import vendors
from streams.domains.broker.options import opts
from streams.domains.broker.prompts import category_list, category_name, picked_category
from streams.engine import messages as m
from streams.engine.common import km
from streams.engine.flows import Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import finish, heard, learn, session
from streams.listings import Hit
from streams.places import resolve
from streams.understanding.model import Intent

FLOW_NAME = "general_broker"  # an agent flow (WASTREAM_AGENT_FLOWS): see agent_sessions


def _ask_need(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "need.ask")]


def _ask_start(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "start.body"), [
        m.Option("need:find", t(conv, "start.find")),
        m.Option("need:vendor", t(conv, "start.vendor"))])]


def _start(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """The broker's entry: a need typed at once, or one of the two buttons."""
    if inp.choice == "need:find":
        return Go(step="need")
    if inp.choice == "need:vendor":
        return Go(step="start", flow="broker_vendor")
    return _need(ctx, conv, inp, out)


def _ask_category(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [category_list(conv, "category.body")]


def _ask_place(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.location_request_body(conv.wa_id, t(conv, "place.ask"))]


def _need(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    u = heard(ctx, conv)
    if u is None:
        return _from_input(ctx, conv, inp, out)
    if u.intent is Intent.UNKNOWN:  # "Kicukiro": the flow already says what is wanted
        learn(conv, intent=Intent.FIND_SERVICE.value)
    conv.data.setdefault("need", inp.text.strip()[:300])
    return next_step(ctx, conv, out)


def _category(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    cat = picked_category(inp)
    if cat is not None:
        learn(conv, category=cat)
        return next_step(ctx, conv, out)
    u = heard(ctx, conv)
    if u is None or u.category is None:
        return None  # re-prompt: the service list again
    conv.data.setdefault("need", inp.text.strip()[:300])
    return next_step(ctx, conv, out)


def _place(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.kind == "location":
        learn(conv, place=None, lat=inp.lat, lon=inp.lon)
        return next_step(ctx, conv, out)
    u = heard(ctx, conv)
    if u is None or u.lat is None:
        out.replies.append(say(conv, "place.unknown"))
        return None  # re-prompt: the location request again
    return next_step(ctx, conv, out)


def _from_input(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """A list pick or a location where free text was expected."""
    cat = picked_category(inp)
    if cat is not None:
        learn(conv, category=cat)
        return next_step(ctx, conv, out)
    if inp.kind == "location":
        learn(conv, place=None, lat=inp.lat, lon=inp.lon)
        return next_step(ctx, conv, out)
    return None


def next_step(ctx: Ctx, conv: Conv, out: Out) -> Go:
    """Ask for what the need still misses, or list the vendors."""
    u = session(conv).understood
    if u.category is None:
        return Go(step="category")
    if u.lat is None or u.lon is None:
        return Go(step="place")
    if not _hits(ctx, conv):
        out.replies.append(say(conv, "vendors.none", radius=km(opts(ctx).radius_km),
                               category=category_name(u.category, conv.lang),
                               place=_place_name(conv)))
        return Go(step="need", prompt=False)  # another place or service, typed
    return Go(step="pick")


def _place_name(conv: Conv) -> str:
    u = session(conv).understood
    return u.place or t(conv, "here")


def _hits(ctx: Ctx, conv: Conv) -> list[Hit]:
    u = session(conv).understood
    if u.category is None or u.lat is None or u.lon is None:
        return []
    asked = tuple(conv.data.get("asked", ()))
    return vendors(ctx).near(u.category, u.lat, u.lon, ctx.now, (conv.wa_id, *asked))


def _list_vendors(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    u = session(conv).understood
    cat = category_name(u.category or "", conv.lang)
    hits = _hits(ctx, conv)
    if not hits:
        return [say(conv, "vendors.none", category=cat, radius=km(opts(ctx).radius_km),
                    place=_place_name(conv))]
    rows = [m.Option(f"vendor:{h.listing.owner}", str(h.listing.fields.get("name", "?")),
                     t(conv, "vendors.row.desc", km=km(h.km))) for h in hits]
    return [m.list_body(conv.wa_id, t(conv, "vendors.body", count=len(hits), category=cat,
                                      place=_place_name(conv)),
                        t(conv, "vendors.button"), rows, section=t(conv, "vendors.button"))]


def _pick(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if not inp.choice.startswith("vendor:"):
        return None  # re-prompt: the vendor list again
    hit = next((h for h in _hits(ctx, conv) if f"vendor:{h.listing.owner}" == inp.choice),
               None)
    if hit is None:
        return None
    u = session(conv).understood
    vendor = hit.listing.owner
    rid = hashlib.sha256(ctx.event.event_id.encode()).hexdigest()[:16]
    district = ""
    if u.place:
        p = resolve(u.place)
        district = p.district if p is not None else ""
    out.domain.append(BrokerRequest(request_id=rid, user=conv.wa_id, vendor=vendor,
                                    category=u.category or "", place=u.place or "",
                                    district=district, km=round(hit.km, 1)))
    name = str(hit.listing.fields.get("name", ""))
    requests.send(ctx, conv, out, {
        "request_id": rid, "user": conv.wa_id, "vendor": vendor, "vendor_name": name,
        "user_name": ctx.event.profile_name or "", "category": u.category,
        "place": u.place or "", "km": km(hit.km), "need": conv.data.get("need", ""),
        "lat": u.lat, "lon": u.lon})
    finish(conv, "requested")
    conv.data["asked"] = [*conv.data.get("asked", ()), vendor]
    out.replies.append(say(conv, "request.sent", vendor=name,
                           minutes=round(opts(ctx).request_timeout_s / 60)))
    return Go(step="waiting", prompt=False)


def _waiting(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    open_ = requests.open_request(conv)
    if open_ is None:
        return Go(step="pick")
    out.replies.append(say(conv, "request.waiting", vendor=open_.get("vendor_name", "")))
    return Go(step="waiting", prompt=False)


def _done(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    return Go(step="main", flow="menu")


def _quiet(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return []


FLOW = Flow(
    name=FLOW_NAME,
    start="start",
    steps={
        "start": Step(_ask_start, _start, understand=True),
        "need": Step(_ask_need, _need, understand=True),
        "category": Step(_ask_category, _category, understand=True),
        "place": Step(_ask_place, _place, understand=True),
        "pick": Step(_list_vendors, _pick),
        "waiting": Step(_quiet, _waiting),
        "done": Step(_quiet, _done),
    },
)
