"""The rentals flow: a home step (List a property / Find a place / My listings), then
the steps of ``listing``, ``find`` and ``mine``."""

from __future__ import annotations

from typing import Any

from streams.domains.rentals import find, listing, mine
from streams.domains.rentals.catalog import say, t
from streams.engine import messages as m
from streams.engine.flows import MENU, Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out

CHOICES = ("rentals:list", "rentals:find", "rentals:mine")
FIRST_STEP = {"rentals:list": "kind", "rentals:find": "where", "rentals:mine": "mine"}


def home_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "home.body"), [
        m.Option("rentals:list", t(conv, "button.list")),
        m.Option("rentals:find", t(conv, "button.find")),
        m.Option("rentals:mine", t(conv, "button.mine")),
    ])]


def home(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    choice = inp.choice
    if not choice and inp.word.isdigit() and 1 <= int(inp.word) <= len(CHOICES):
        choice = CHOICES[int(inp.word) - 1]
    if choice not in FIRST_STEP:
        return None
    if choice == "rentals:mine" and not mine.open_posts(conv, ctx.now):
        out.replies.append(say(conv, "mine.none"))
        return MENU
    return Go(step=FIRST_STEP[choice])


FLOW = Flow(
    name="rentals",
    start="home",
    steps={
        "home": Step(prompt=home_prompt, accept=home),
        "kind": Step(prompt=listing.kind_prompt, accept=listing.kind),
        "bedrooms": Step(prompt=listing.bedrooms_prompt, accept=listing.bedrooms),
        "price": Step(prompt=listing.price_prompt, accept=listing.price),
        "place": Step(prompt=listing.place_prompt, accept=listing.place),
        "photo": Step(prompt=listing.photo_prompt, accept=listing.photo),
        "confirm": Step(prompt=listing.confirm_prompt, accept=listing.confirm),
        "where": Step(prompt=find.where_prompt, accept=find.where),
        "ceiling": Step(prompt=find.ceiling_prompt, accept=find.ceiling),
        "beds": Step(prompt=find.beds_prompt, accept=find.beds),
        "results": Step(prompt=find.results_prompt, accept=find.results),
        "detail": Step(prompt=find.detail_prompt, accept=find.detail),
        "mine": Step(prompt=mine.mine_prompt, accept=mine.mine),
        "manage": Step(prompt=mine.manage_prompt, accept=mine.manage),
    },
)
