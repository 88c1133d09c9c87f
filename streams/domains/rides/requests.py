"""Ride requests between two users' conversations.

A passenger and a driver usually live on different partitions, so neither
conversation may touch the other's state. They talk through internal events on
``wa.inbound`` keyed by the other user's wa_id (``wastream.ride.request``,
``.answer``, ``.closed``, ``.offer``): each conversation changes only itself, in
order, on its own partition, and the deterministic event ids make redelivery harmless.
"""

from __future__ import annotations

from typing import Any

from streams.domains.rides import kept
from streams.domains.rides.catalog import say, t
from streams.domains.rides.events import (
    DriverOffline,
    RideAccepted,
    RideDeclined,
    RideTimedOut,
)
from streams.domains.rides.options import opts
from streams.domains.rides.templates import RIDE_CLOSED, RIDE_OFFER, RIDE_REQUEST
from streams.engine import messages as m
from streams.engine.domain import ChoiceHandler, EventHandler
from streams.engine.flows import Go, TimerHandler
from streams.engine.model import Conv, Ctx, Input, Out

MENU_QUIET = Go(step="main", flow="menu", prompt=False)


def on_request(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Driver side: a passenger asks me; show Accept / Decline."""
    rid = str(p["request_id"])
    pending = {k: v for k, v in kept.pending(conv).items() if v.get("until", 0) > ctx.now}
    pending[rid] = {
        "passenger": p["passenger"],
        "vehicle": p.get("vehicle", ""),
        "until": ctx.now + opts(ctx).ride_timeout_s,
    }
    kept.set_pending(conv, pending)
    vehicle = t(conv, f"vehicle.{p.get('vehicle', 'moto')}")
    accept, decline = f"ride:accept:{rid}", f"ride:decline:{rid}"
    body = m.buttons_body(
        conv.wa_id,
        t(conv, "ride.request", km=p.get("km", "?"), vehicle=vehicle),
        [m.Option(accept, t(conv, "ride.accept")), m.Option(decline, t(conv, "ride.decline"))],
    )
    # A driver who went online yesterday gets it as the template, same payloads.
    ref = RIDE_REQUEST.ref(p.get("km", "?"), vehicle, buttons=(accept, decline))
    out.replies.append(m.templated(body, ref, conv.lang))
    return None


def driver_answer(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """Driver side: the Accept / Decline tap (valid whatever flow the driver is in)."""
    parts = inp.choice.split(":", 2)
    if len(parts) != 3 or parts[1] not in ("accept", "decline"):
        out.replies.append(say(conv, "ride.gone"))
        return None
    rid = parts[2]
    req = kept.pending(conv).pop(rid, None)
    if req is None or req.get("until", 0) <= ctx.now:
        out.replies.append(say(conv, "ride.gone"))
        return None
    accepted = parts[1] == "accept"
    passenger = str(req["passenger"])
    fact = RideAccepted if accepted else RideDeclined
    out.domain.append(fact(request_id=rid, passenger=passenger, driver=conv.wa_id))
    out.internal.append(
        (
            passenger,
            "wastream.ride.answer",
            {"request_id": rid, "accepted": accepted, "driver": conv.wa_id},
        )
    )
    if accepted:
        out.replies.append(say(conv, "ride.accepted.driver", passenger=passenger))
    else:
        out.replies.append(say(conv, "ride.declined.driver"))
    return None


def on_closed(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Driver side: the passenger's request timed out or was withdrawn."""
    if kept.pending(conv).pop(str(p.get("request_id")), None) is not None:
        out.replies.append(m.templated(say(conv, "ride.gone"), RIDE_CLOSED.ref(), conv.lang))
    return None


def on_answer(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Passenger side: the driver's answer to my open request."""
    rid = str(p.get("request_id"))
    ride = kept.ride(conv)
    if not ride or ride.get("request_id") != rid:
        # Too late (timed out) or withdrawn: tell the driver it is closed.
        out.internal.append((str(p.get("driver")), "wastream.ride.closed", {"request_id": rid}))
        return None
    kept.set_ride(conv, None)
    conv.deadlines.pop("ride_timeout", None)
    if p.get("accepted"):
        out.replies.append(say(conv, "ride.accepted.passenger", driver=p.get("driver")))
        return MENU_QUIET
    out.replies.append(say(conv, "ride.declined.passenger"))
    return _pick_again(ride)


def _pick_again(ride: dict[str, Any]) -> Go:
    """Back to the driver list of the passenger's search (even from another flow)."""
    return Go(
        step="pick",
        flow="rides_drivers",
        data={k: ride[k] for k in ("vehicle", "lat", "lon") if k in ride},
    )


def on_timeout(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Passenger side: the driver did not answer in time."""
    ride = kept.ride(conv)
    kept.set_ride(conv, None)
    if not ride:
        return None
    out.domain.append(
        RideTimedOut(request_id=ride["request_id"], driver=ride["driver"], passenger=conv.wa_id)
    )
    out.internal.append(
        (ride["driver"], "wastream.ride.closed", {"request_id": ride["request_id"]})
    )
    out.replies.append(say(conv, "ride.timeout"))
    return _pick_again(ride)


def on_offer(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Passenger side: a driver nearby offers me a ride."""
    vehicle = t(conv, f"vehicle.{p.get('vehicle', 'moto')}")
    km, driver = p.get("km", "?"), p.get("driver")
    out.replies.append(m.templated(
        say(conv, "offer.received", vehicle=vehicle, km=km, driver=driver),
        RIDE_OFFER.ref(vehicle, km, driver), conv.lang))
    return None


def on_stop(ctx: Ctx, conv: Conv, out: Out) -> None:
    """The user said stop: a driver goes offline, a passenger's open request is withdrawn."""
    if conv.deadlines.pop("online", None) is not None:
        out.domain.append(DriverOffline(reason="stop"))
    conv.deadlines.pop("ride_timeout", None)
    ride = kept.ride(conv)
    if ride:
        out.internal.append(
            (ride["driver"], "wastream.ride.closed", {"request_id": ride["request_id"]})
        )
        kept.set_ride(conv, None)


HANDLERS: dict[str, EventHandler] = {
    "wastream.ride.request": on_request,
    "wastream.ride.answer": on_answer,
    "wastream.ride.closed": on_closed,
    "wastream.ride.offer": on_offer,
}
TIMERS: dict[str, TimerHandler] = {"ride_timeout": on_timeout}
# The driver's Accept / Decline buttons (``ride:accept:<id>``) work whatever flow the
# driver is in by then.
CHOICES: dict[str, ChoiceHandler] = {"ride:": driver_answer}
