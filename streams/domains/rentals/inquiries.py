"""Inquiries travelling between a seeker's and an owner's conversations, and the
renewal and expiry of a listing.

- ``wastream.rentals.inquiry`` (seeker → owner): the owner sees the seeker's WhatsApp
  name with a Contact button (``rentinq:<listing>:<seeker>``, valid in any flow); a
  second one from the same seeker changes nothing;
- ``wastream.rentals.answer`` (owner → seeker): the owner's wa.me link, or "closed";
- ``rent_renew:<id>``: asks the owner whether to renew (``rentrenew:<id>``, valid in
  any flow); ``rent_expire:<id>``: ``RentalExpired``.
"""

from __future__ import annotations

from typing import Any

from streams.domains.rentals import kept
from streams.domains.rentals.catalog import say, t
from streams.domains.rentals.events import RentalContacted, RentalExpired, RentalRenewed
from streams.domains.rentals.listing import keep, label
from streams.domains.rentals.options import opts
from streams.domains.rentals.templates import ANSWER, EXPIRED, INQUIRY, RENEW
from streams.engine import messages as m
from streams.engine.domain import ChoiceHandler, EventHandler
from streams.engine.flows import Go, TimerHandler
from streams.engine.model import Conv, Ctx, Input, Out
from streams.listings.conversation import wa_link


def on_inquiry(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Owner side: a seeker asked about my listing."""
    lid, seeker = str(p["listing_id"]), str(p["seeker"])
    post = kept.posts(conv).get(lid)
    if post is None or post["expires_at"] <= ctx.now:
        out.internal.append((seeker, "wastream.rentals.answer",
                             {"listing_id": lid, "outcome": "closed"}))
        return None
    asked = kept.inquiries(conv, lid)
    if seeker in asked:
        return None
    asked[seeker] = {"name": str(p.get("name", "")), "state": "new"}
    contact, what = f"rentinq:{lid}:{seeker}", label(conv, post)
    reply = m.buttons_body(
        conv.wa_id, t(conv, "inquiry.owner", name=p.get("name", ""), what=what),
        [m.Option(contact, t(conv, "button.contact"))])
    ref = INQUIRY.ref(p.get("name", ""), what, buttons=(contact,))
    out.replies.append(m.templated(reply, ref, conv.lang))
    return None


def owner_contact(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """Owner side: the Contact tap on an inquiry."""
    parts = inp.choice.split(":", 2)
    post = kept.posts(conv).get(parts[1]) if len(parts) == 3 else None
    inquiry = kept.inquiries(conv, parts[1]).get(parts[2]) if post else None
    if post is None or inquiry is None or inquiry["state"] != "new":
        out.replies.append(say(conv, "inquiry.gone"))
        return None
    lid, seeker = parts[1], parts[2]
    inquiry["state"] = "contacted"
    out.domain.append(RentalContacted(listing_id=lid, owner=conv.wa_id, seeker=seeker))
    out.replies.append(say(conv, "contact.owner", name=inquiry["name"], link=wa_link(seeker)))
    out.internal.append((seeker, "wastream.rentals.answer", {
        "listing_id": lid, "outcome": "contacted", "link": wa_link(conv.wa_id)}))
    return None


def on_answer(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Seeker side: the owner's wa.me link, or the listing had closed."""
    if p.get("outcome") == "contacted":
        reply = say(conv, "answer.contacted", link=p.get("link", ""))
    else:
        reply = say(conv, "answer.closed")
    news = str(reply["text"]["body"])
    out.replies.append(m.templated(reply, ANSWER.ref(news), conv.lang))
    return None


def on_renew_due(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Owner side: my listing expires soon; ask whether to renew it."""
    lid = str(p["kind"]).split(":", 1)[1]
    post = kept.posts(conv).get(lid)
    if post is not None:
        days = f"{max(0.0, post['expires_at'] - ctx.now) / 86400:.0f}"
        what, renew_id = label(conv, post), f"rentrenew:{lid}"
        reply = m.buttons_body(conv.wa_id, t(conv, "renew.ask", what=what, days=days),
                               [m.Option(renew_id, t(conv, "button.renew"))])
        out.replies.append(m.templated(reply, RENEW.ref(what, days, buttons=(renew_id,)),
                                       conv.lang))
    return None


def renew(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """Owner side: the Renew tap: the listing lives a full lifetime from now."""
    lid = inp.choice.removeprefix("rentrenew:")
    post = kept.posts(conv).get(lid)
    if post is None or post["expires_at"] <= ctx.now:
        out.replies.append(say(conv, "renew.gone"))
        return None
    listing = {**post, "expires_at": ctx.now + opts(ctx).lifetime_s}
    out.domain.append(RentalRenewed(**listing))
    keep(ctx, conv, listing)
    out.replies.append(say(conv, "renew.done", what=label(conv, post),
                           days=f"{opts(ctx).lifetime_s / 86400:g}"))
    return None


def on_expire(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Owner side: my listing's lifetime ended without a renewal."""
    lid = str(p["kind"]).split(":", 1)[1]
    post = kept.forget_post(conv, lid)
    if post is not None:
        out.domain.append(RentalExpired(listing_id=lid))
        what = label(conv, post)
        out.replies.append(m.templated(say(conv, "expired", what=what), EXPIRED.ref(what),
                                       conv.lang))
    return None


HANDLERS: dict[str, EventHandler] = {
    "wastream.rentals.inquiry": on_inquiry,
    "wastream.rentals.answer": on_answer,
}
TIMERS: dict[str, TimerHandler] = {"rent_renew": on_renew_due, "rent_expire": on_expire}
CHOICES: dict[str, ChoiceHandler] = {"rentinq:": owner_contact, "rentrenew:": renew}
