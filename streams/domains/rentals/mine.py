"""Rentals · my listings: my open listings → one → Mark rented (``RentalRented``: it
leaves the search), Remove (``RentalRemoved``) or keep it."""

from __future__ import annotations

from typing import Any

from streams.domains.rentals import kept
from streams.domains.rentals.catalog import say, t
from streams.domains.rentals.events import RentalRemoved, RentalRented
from streams.domains.rentals.listing import label, rwf
from streams.engine import messages as m
from streams.engine.flows import MENU, Go
from streams.engine.model import Conv, Ctx, Input, Out


def open_posts(conv: Conv, now: float) -> list[tuple[str, dict[str, Any]]]:
    got = [(k, v) for k, v in kept.posts(conv).items() if v["expires_at"] > now]
    return sorted(got, key=lambda kv: -kv[1]["posted_at"])[: m.MAX_ROWS]


def mine_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    posts = open_posts(conv, ctx.now)
    if not posts:
        return [say(conv, "mine.none")]
    rows = [m.Option(f"mylist:{lid}", t(conv, "find.row", kind=t(conv, f"type.{p['kind']}"),
                                          bedrooms=p["bedrooms"]),
                     t(conv, "mine.row", price=rwf(p["price"]),
                       count=len(kept.inquiries(conv, lid))))
            for lid, p in posts]
    return [m.list_body(conv.wa_id, t(conv, "mine.body", count=len(rows)),
                        t(conv, "mine.button"), rows, section=t(conv, "mine.button"))]


def mine(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    posts = open_posts(conv, ctx.now)
    lid = inp.choice.removeprefix("mylist:") if inp.choice.startswith("mylist:") else ""
    if not lid and inp.word.isdigit() and 1 <= int(inp.word) <= len(posts):
        lid = posts[int(inp.word) - 1][0]
    if lid not in dict(posts):
        return None
    return Go(step="manage", data={"listing": lid})


def manage_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    post = kept.posts(conv).get(conv.data.get("listing", ""))
    if post is None:
        return [say(conv, "mine.none")]
    return [m.buttons_body(conv.wa_id, t(conv, "manage.body", what=label(conv, post)), [
        m.Option("rentals:rented", t(conv, "button.rented")),
        m.Option("rentals:remove", t(conv, "button.remove")),
        m.Option("rentals:keep", t(conv, "button.keep")),
    ])]


def manage(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    lid = conv.data.get("listing", "")
    if inp.choice == "rentals:keep":
        return MENU
    if inp.choice not in ("rentals:rented", "rentals:remove"):
        return None
    post = kept.forget_post(conv, lid)
    if post is not None:
        rented = inp.choice == "rentals:rented"
        out.domain.append(RentalRented(listing_id=lid) if rented
                          else RentalRemoved(listing_id=lid))
        out.replies.append(say(conv, "manage.rented" if rented else "manage.removed",
                               what=label(conv, post)))
    return MENU
