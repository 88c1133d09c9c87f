"""Rides · nearby passengers (a driver goes online).

vehicle → location → the driver is online for WASTREAM_DRIVER_ONLINE_S (30 min):
``DriverOnline`` now, ``DriverOffline`` when the timer fires (or on stop) → passengers
who searched for that vehicle nearby in the last 30 minutes → offer a ride to one.
"""

from __future__ import annotations

from typing import Any

from streams.domains.rides.catalog import say, t
from streams.domains.rides.events import DriverOffline, DriverOnline, RideOffered
from streams.domains.rides.index import nearby
from streams.domains.rides.options import opts
from streams.domains.rides.prompts import location_prompt, pick_vehicle, vehicle_prompt
from streams.engine import messages as m
from streams.engine.common import km
from streams.engine.flows import MENU, Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out


def _vehicle(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    v = pick_vehicle(inp.choice, inp.word, [])
    return Go(step="location", data={"vehicle": v}) if v else None


def _location(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.kind != "location":
        return None
    vehicle = conv.data["vehicle"]
    until = ctx.now + opts(ctx).online_s
    out.domain.append(DriverOnline(vehicle=vehicle, lat=inp.lat, lon=inp.lon, until=until))
    conv.deadlines["online"] = until
    vname = t(conv, f"vehicle.{vehicle}")
    out.replies.append(
        say(conv, "online.body", vehicle=vname, minutes=f"{opts(ctx).online_s / 60:g}")
    )
    found = nearby(ctx).passengers(vehicle, inp.lat, inp.lon, ctx.now, exclude=conv.wa_id)
    if not found:
        out.replies.append(say(conv, "passengers.none"))
        return MENU
    rows = [
        m.Option(
            f"passenger:{w}",
            t(conv, "passengers.row", n=i + 1),
            t(conv, "drivers.row.desc", km=km(d)),
        )
        for i, (w, d) in enumerate(found)
    ]
    out.replies.append(
        m.list_body(
            conv.wa_id,
            t(conv, "passengers.body", count=len(found)),
            t(conv, "passengers.button"),
            rows,
            section=t(conv, "passengers.button"),
        )
    )
    return Go(
        step="pick",
        prompt=False,
        data={"lat": inp.lat, "lon": inp.lon, "listed": [[w, round(d, 2)] for w, d in found]},
    )


def _pick_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    listed = conv.data.get("listed") or []
    rows = [
        m.Option(
            f"passenger:{w}",
            t(conv, "passengers.row", n=i + 1),
            t(conv, "drivers.row.desc", km=km(d)),
        )
        for i, (w, d) in enumerate(listed)
    ]
    return [
        m.list_body(
            conv.wa_id,
            t(conv, "passengers.body", count=len(listed)),
            t(conv, "passengers.button"),
            rows,
            section=t(conv, "passengers.button"),
        )
    ]


def _pick(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    listed: list[list[Any]] = conv.data.get("listed") or []
    who = inp.choice.removeprefix("passenger:") if inp.choice.startswith("passenger:") else ""
    if not who and inp.word.isdigit() and 1 <= int(inp.word) <= len(listed):
        who = listed[int(inp.word) - 1][0]
    dist = next((d for w, d in listed if w == who), None)
    if dist is None:
        return None
    vehicle = conv.data["vehicle"]
    out.domain.append(RideOffered(driver=conv.wa_id, passenger=who, vehicle=vehicle, km=dist))
    out.internal.append(
        (who, "wastream.ride.offer", {"driver": conv.wa_id, "vehicle": vehicle, "km": km(dist)})
    )
    out.replies.append(say(conv, "passengers.offered"))
    return Go(step="main", flow="menu", prompt=False)


def _offline(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    out.domain.append(DriverOffline(reason="expired"))
    return None


FLOW = Flow(
    name="rides_passengers",
    start="vehicle",
    steps={
        "vehicle": Step(prompt=vehicle_prompt, accept=_vehicle),
        "location": Step(prompt=location_prompt("location.ask"), accept=_location),
        "pick": Step(prompt=_pick_prompt, accept=_pick),
    },
    timers={"online": _offline},
)
