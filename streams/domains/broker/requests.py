"""A need travelling between the user's and the vendor's conversations.

They usually live on different partitions, so neither touches the other's state: the
user's conversation sends ``wastream.broker.request`` to the vendor's, which answers
``wastream.broker.answer``; ``wastream.broker.closed`` tells the vendor a request
timed out. The open request is kept in the broker's slot of each conversation (it
outlives a flow change: a user may go to the menu while waiting).
"""

from __future__ import annotations

from typing import Any

from streams.domains.broker.catalog import say, t
from streams.domains.broker.events import BrokerAccepted, BrokerDeclined, BrokerTimedOut
from streams.domains.broker.options import NAME, opts
from streams.domains.broker.prompts import category_name
from streams.domains.broker.templates import REQUEST_CLOSED, VENDOR_REQUEST
from streams.engine import messages as m
from streams.engine.domain import ChoiceHandler, EventHandler
from streams.engine.flows import Go, TimerHandler
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import begin, finish
from streams.understanding.model import Intent

TIMER = "broker_timeout"
FLOW_NAME = "general_broker"


def open_request(conv: Conv) -> dict[str, Any] | None:
    """The user's request waiting for a vendor's answer."""
    got = conv.slot(NAME).get("open")
    return got if isinstance(got, dict) else None


def _pending(conv: Conv) -> dict[str, dict[str, Any]]:
    """The vendor's requests not answered yet, by request id."""
    return conv.slot(NAME).setdefault("pending", {})  # type: ignore[no-any-return]


def send(ctx: Ctx, conv: Conv, out: Out, p: dict[str, Any]) -> None:
    """User side: send the need to the vendor and wait for an answer."""
    conv.slot(NAME)["open"] = p
    conv.deadlines[TIMER] = ctx.now + opts(ctx).request_timeout_s
    out.internal.append((str(p["vendor"]), "wastream.broker.request", p))


def on_request(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Vendor side: a user's need, in the vendor's language, with Accept / Decline."""
    rid = str(p["request_id"])
    pending = {k: v for k, v in _pending(conv).items() if v.get("until", 0) > ctx.now}
    user_name = str(p.get("user_name") or t(conv, "request.someone"))
    pending[rid] = {"user": p["user"], "user_name": user_name,
                    "until": ctx.now + opts(ctx).request_timeout_s}
    conv.slot(NAME)["pending"] = pending
    category = category_name(str(p.get("category", "")), conv.lang)
    place, km, need = p.get("place") or "?", p.get("km", "?"), p.get("need", "")
    body = t(conv, "request.to_vendor", user=user_name, category=category, place=place,
             km=km, need=need)
    accept, decline = f"broker:accept:{rid}", f"broker:decline:{rid}"
    reply = m.buttons_body(conv.wa_id, body, [
        m.Option(accept, t(conv, "request.accept")),
        m.Option(decline, t(conv, "request.decline")),
    ])
    # An imported vendor may never have written: then it goes as the template.
    ref = VENDOR_REQUEST.ref(user_name, category, place, km, need or "-",
                             buttons=(accept, decline))
    out.replies.append(m.templated(reply, ref, conv.lang))
    return None


def vendor_answer(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """Vendor side: the Accept / Decline tap (valid whatever flow the vendor is in)."""
    parts = inp.choice.split(":", 2)
    req = _pending(conv).pop(parts[2], None) if len(parts) == 3 else None
    if req is None or req.get("until", 0) <= ctx.now or parts[1] not in ("accept", "decline"):
        out.replies.append(say(conv, "request.gone"))
        return None
    rid, user = parts[2], str(req["user"])
    accepted = parts[1] == "accept"
    fact = BrokerAccepted if accepted else BrokerDeclined
    out.domain.append(fact(request_id=rid, user=user, vendor=conv.wa_id))
    out.internal.append((user, "wastream.broker.answer",
                         {"request_id": rid, "accepted": accepted, "vendor": conv.wa_id}))
    if accepted:
        out.replies.append(say(conv, "request.accepted.vendor", user=req["user_name"],
                               user_wa_id=user))
    else:
        out.replies.append(say(conv, "request.declined.vendor"))
    return None


def on_answer(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """User side: the vendor's answer to the open request."""
    req = open_request(conv)
    rid = str(p.get("request_id"))
    if req is None or req.get("request_id") != rid:
        # Too late (timed out): tell the vendor it is closed.
        out.internal.append((str(p.get("vendor")), "wastream.broker.closed", {"request_id": rid}))
        return None
    conv.slot(NAME).pop("open", None)
    conv.deadlines.pop(TIMER, None)
    vendor = str(req.get("vendor_name", ""))
    if p.get("accepted"):
        out.replies.append(say(conv, "request.accepted.user", vendor=vendor,
                               vendor_wa_id=req["vendor"]))
        out.replies.append(say(conv, "connected.next"))
        if conv.flow == FLOW_NAME:
            finish(conv, "connected")
            return Go(step="done", prompt=False)
        return None
    out.replies.append(say(conv, "request.declined.user", vendor=vendor))
    return _pick_again(conv, req)


def on_timeout(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """User side: the vendor did not answer in time."""
    req = open_request(conv)
    conv.slot(NAME).pop("open", None)
    if req is None:
        return None
    rid, vendor = str(req["request_id"]), str(req["vendor"])
    out.domain.append(BrokerTimedOut(request_id=rid, user=conv.wa_id, vendor=vendor))
    out.internal.append((vendor, "wastream.broker.closed", {"request_id": rid}))
    out.replies.append(say(conv, "request.timeout", vendor=req.get("vendor_name", ""),
                           minutes=round(opts(ctx).request_timeout_s / 60)))
    return _pick_again(conv, req)


def _pick_again(conv: Conv, req: dict[str, Any]) -> Go:
    """Back to the vendor list of this need (the vendor asked left out)."""
    if conv.flow == FLOW_NAME:
        return Go(step="pick")
    data = begin(Intent.FIND_SERVICE)
    data["session"]["understood"].update(
        category=req.get("category"), place=req.get("place") or None,
        lat=req.get("lat"), lon=req.get("lon"))
    data["asked"] = [req["vendor"]]
    data["need"] = req.get("need", "")
    return Go(step="pick", flow=FLOW_NAME, data=data)


def on_closed(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Vendor side: the user's request timed out."""
    if _pending(conv).pop(str(p.get("request_id")), None) is not None:
        out.replies.append(m.templated(say(conv, "request.gone"), REQUEST_CLOSED.ref(),
                                       conv.lang))
    return None


def on_stop(ctx: Ctx, conv: Conv, out: Out) -> None:
    """The user said stop: an open request is withdrawn."""
    conv.deadlines.pop(TIMER, None)
    req = conv.slot(NAME).pop("open", None) if NAME in conv.domains else None
    if isinstance(req, dict):
        out.internal.append((str(req["vendor"]), "wastream.broker.closed",
                             {"request_id": req["request_id"]}))


HANDLERS: dict[str, EventHandler] = {
    "wastream.broker.request": on_request,
    "wastream.broker.answer": on_answer,
    "wastream.broker.closed": on_closed,
}
TIMERS: dict[str, TimerHandler] = {TIMER: on_timeout}
CHOICES: dict[str, ChoiceHandler] = {"broker:": vendor_answer}
