"""``farmer_market``: the farm produce agent flow. Its first step takes a need typed in
free text ("I want 200 kg of beans near Musanze", "ndagurisha ibishyimbo ibiro 100")
or a button (sell, buy, my listings); the agent's understanding says which side the
user is on (``Intent.SELL_PRODUCE`` or ``BUY_PRODUCE``), and the steps ask for what is
still missing (``need``), then list the produce (``sell``) or search it (``buy``)."""

from __future__ import annotations

from typing import Any

from streams.domains.farmer import buy, manage, sell
from streams.domains.farmer.catalog import say, t
from streams.domains.farmer.need import (
    BUY,
    FLOW_NAME,
    SELL,
    accept_crop,
    accept_place,
    ask_crop,
    ask_place,
    hear,
    next_step,
)
from streams.engine import messages as m
from streams.engine.flows import Flow, Go, Step
from streams.engine.menu import MENU_FLOW
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import begin, learn


def _ask_start(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "start.body"), [
        m.Option("farmer:sell", t(conv, "start.sell")),
        m.Option("farmer:buy", t(conv, "start.buy")),
        m.Option("farmer:mine", t(conv, "start.mine"))])]


def _start(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice in ("farmer:sell", "farmer:buy"):
        return Go(step="crop", data=begin(SELL if inp.choice == "farmer:sell" else BUY))
    if inp.choice == "farmer:mine":
        return Go(step="pick", flow=manage.FLOW_NAME)
    if inp.kind == "location":  # a place first: what is wanted is asked next
        learn(conv, place=None, lat=inp.lat, lon=inp.lon)
        return Go(step="start")
    u = hear(ctx, conv, inp)
    if u is None or u.intent not in (SELL, BUY):
        out.replies.append(say(conv, "start.unknown"))
        return None
    return next_step(conv)


def _done(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """After the listing or the match: a pick from the last menu shown is followed (this
    flow again starts afresh); anything else shows the menu."""
    go = MENU_FLOW.steps["main"].accept(ctx, conv, inp, out) if inp.choice else None
    if go is None or go.flow is None:
        return Go(step="main", flow="menu")
    if go.flow == FLOW_NAME:
        conv.data.clear()  # a new need: nothing carried over from the one just done
    return go


def _quiet(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return []


FLOW = Flow(
    name=FLOW_NAME,
    start="start",
    steps={
        "start": Step(_ask_start, _start, understand=True),
        "crop": Step(ask_crop, accept_crop, understand=True),
        "quantity": Step(sell.ask_quantity, sell.accept_quantity),
        "unit": Step(sell.ask_unit, sell.accept_unit),
        "price": Step(sell.ask_price, sell.accept_price),
        "place": Step(ask_place, accept_place, understand=True),
        "harvest": Step(sell.ask_harvest, sell.accept_harvest),
        "results": Step(buy.ask_results, buy.accept_results, understand=True),
        "offer": Step(buy.ask_offer, buy.accept_offer),
        "done": Step(_quiet, _done),
    },
)
