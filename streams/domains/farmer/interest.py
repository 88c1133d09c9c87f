"""A buyer's interest travelling between the buyer's and the farmer's conversations.

They usually live on different partitions, so neither touches the other's state: the
buyer's conversation sends ``wastream.farmer.interest`` to the farmer's, which answers
``wastream.farmer.answer`` (accepted, declined, or gone: the listing closed or expired
meanwhile). Each side keeps what it is waiting for in the domain's slot (it outlives a
flow change): the buyer its interests, the farmer the interests not answered yet.
"""

from __future__ import annotations

from typing import Any

from streams.domains.farmer.catalog import say, t
from streams.domains.farmer.events import ProduceDeclined, ProduceMatched
from streams.domains.farmer.need import FLOW_NAME
from streams.domains.farmer.options import NAME
from streams.domains.farmer.prompts import amount, crop_name, shown, unit_name
from streams.domains.farmer.sell import listings
from streams.domains.farmer.templates import ANSWER, INTEREST
from streams.engine import messages as m
from streams.engine.domain import ChoiceHandler, EventHandler
from streams.engine.flows import Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import finish


def _waiting(conv: Conv, key: str, now: float) -> dict[str, dict[str, Any]]:
    """The slot's ``key`` (``sent`` by a buyer, ``pending`` for a farmer) by interest
    id, without the entries whose listing has expired."""
    slot = conv.slot(NAME)
    live = {k: v for k, v in slot.get(key, {}).items() if float(v.get("until", 0)) > now}
    slot[key] = live
    return live


def send(ctx: Ctx, conv: Conv, out: Out, p: dict[str, Any]) -> None:
    """Buyer side: tell the farmer, and remember the interest to read the answer."""
    _waiting(conv, "sent", ctx.now)[str(p["interest_id"])] = {
        "listing_id": p["listing_id"], "farmer": p["farmer"], "crop": p["crop"],
        "until": p["until"]}
    out.internal.append((str(p["farmer"]), "wastream.farmer.interest", p))


def on_interest(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Farmer side: a buyer is interested; Accept / Decline, in the farmer's language."""
    iid, lid = str(p["interest_id"]), str(p["listing_id"])
    listing = listings(conv, ctx.now).get(lid)
    if listing is None:  # closed or expired since the buyer saw it
        out.internal.append((str(p["buyer"]), "wastream.farmer.answer",
                             {"interest_id": iid, "answer": "gone"}))
        return None
    _waiting(conv, "pending", ctx.now)[iid] = {
        "buyer": p["buyer"], "buyer_name": p.get("buyer_name") or "", "listing_id": lid,
        "crop": listing["crop"], "until": listing["expires_at"]}
    wanted = ""
    if p.get("quantity") is not None and p.get("unit"):
        wanted = t(conv, "interest.wanted", wanted=f"{amount(float(p['quantity']))} "
                   f"{unit_name(str(p['unit']), conv.lang)}")
    buyer = p.get("buyer_name") or t(conv, "interest.someone")
    body = t(conv, "interest.to_farmer", **shown(listing, conv.lang), km=p.get("km", "?"),
             buyer=buyer, wanted=wanted)
    accept, decline = f"produce:accept:{iid}", f"produce:decline:{iid}"
    reply = m.buttons_body(conv.wa_id, body, [
        m.Option(accept, t(conv, "interest.accept")),
        m.Option(decline, t(conv, "interest.decline"))])
    # The farmer may have listed days ago: outside the window, the template (0015).
    what = shown(listing, conv.lang)
    ref = INTEREST.ref(buyer, f"{what['crop']} ({what['quantity']} {what['unit']})",
                       buttons=(accept, decline))
    out.replies.append(m.templated(reply, ref, conv.lang))
    return None


def farmer_answer(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """Farmer side: the Accept / Decline tap (valid whatever flow the farmer is in)."""
    parts = inp.choice.split(":", 2)
    pending = _waiting(conv, "pending", ctx.now)
    req = pending.pop(parts[2], None) if len(parts) == 3 else None
    if (req is None or parts[1] not in ("accept", "decline")
            or str(req["listing_id"]) not in listings(conv, ctx.now)):
        out.replies.append(say(conv, "interest.gone"))
        return None
    iid, buyer = parts[2], str(req["buyer"])
    accepted = parts[1] == "accept"
    fact = ProduceMatched if accepted else ProduceDeclined
    out.domain.append(fact(interest_id=iid, listing_id=str(req["listing_id"]), buyer=buyer,
                           farmer=conv.wa_id, crop=str(req["crop"])))
    out.internal.append((buyer, "wastream.farmer.answer", {
        "interest_id": iid, "answer": "accepted" if accepted else "declined",
        "farmer": conv.wa_id}))
    if accepted:
        out.replies.append(say(conv, "matched.farmer", buyer=req["buyer_name"] or f"+{buyer}",
                               buyer_wa_id=buyer))
    else:
        out.replies.append(say(conv, "declined.farmer"))
    return None


def on_answer(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Buyer side: the farmer's answer (or the listing is gone)."""
    sent = _waiting(conv, "sent", ctx.now).pop(str(p.get("interest_id")), None)
    if sent is None:
        return None
    crop = crop_name(str(sent["crop"]), conv.lang)
    answer = p.get("answer")
    if answer == "accepted":
        reply = say(conv, "matched.buyer", crop=crop, farmer_wa_id=sent["farmer"])
        if conv.flow == FLOW_NAME:
            finish(conv, "matched")
    elif answer == "declined":
        reply = say(conv, "declined.buyer", crop=crop)
    else:
        reply = say(conv, "interest.gone")
    # The farmer may answer days later: outside the window, the template (0015).
    out.replies.append(m.templated(reply, ANSWER.ref(str(reply["text"]["body"])), conv.lang))
    return None


HANDLERS: dict[str, EventHandler] = {
    "wastream.farmer.interest": on_interest,
    "wastream.farmer.answer": on_answer,
}
CHOICES: dict[str, ChoiceHandler] = {"produce:": farmer_answer}
