"""Rides · nearby drivers (a passenger looks for a driver).

vehicle → location → list of drivers (≤10, nearest first, distance shown) → pick →
request sent (the driver answers with Accept/Decline, see ``requests``) →
waiting; a timeout after WASTREAM_RIDE_TIMEOUT_S lets the passenger pick again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from streams.domains.rides import kept
from streams.domains.rides.catalog import say, t
from streams.domains.rides.events import RideRequested, RideSearched
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
    out.domain.append(
        RideSearched(
            vehicle=vehicle, lat=inp.lat, lon=inp.lon, until=ctx.now + opts(ctx).search_window_s
        )
    )
    conv.data.update(lat=inp.lat, lon=inp.lon)
    return _offer(ctx, conv, out)


def _offer(ctx: Ctx, conv: Conv, out: Out) -> Go:
    """List the drivers around the saved location, or say there are none."""
    vehicle, lat, lon = conv.data["vehicle"], conv.data["lat"], conv.data["lon"]
    found = nearby(ctx).drivers(vehicle, lat, lon, ctx.now, exclude=conv.wa_id)
    vname = t(conv, f"vehicle.{vehicle}")
    if not found:
        out.replies.append(
            say(conv, "drivers.none", vehicle=vname, radius=f"{opts(ctx).radius_km:g}")
        )
        return MENU
    out.replies.append(_list(conv, found, vname))
    return Go(step="pick", data={"listed": [[w, round(d, 2)] for w, d in found]}, prompt=False)


def _list(conv: Conv, found: list[tuple[str, float]], vname: str) -> dict[str, Any]:
    rows = [
        m.Option(
            f"driver:{w}", t(conv, "drivers.row", n=i + 1), t(conv, "drivers.row.desc", km=km(d))
        )
        for i, (w, d) in enumerate(found)
    ]
    return m.list_body(
        conv.wa_id,
        t(conv, "drivers.body", count=len(found), vehicle=vname),
        t(conv, "drivers.button"),
        rows,
        section=t(conv, "drivers.button"),
    )


def _pick_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    out = Out()
    go = _offer(ctx, conv, out)
    conv.data.update(go.data)
    return out.replies


def _pick(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    listed: list[list[Any]] = conv.data.get("listed") or []
    driver = inp.choice.removeprefix("driver:") if inp.choice.startswith("driver:") else ""
    if not driver and inp.word.isdigit() and 1 <= int(inp.word) <= len(listed):
        driver = listed[int(inp.word) - 1][0]
    dist = next((d for w, d in listed if w == driver), None)
    if not driver or dist is None:
        return None
    if nearby(ctx).driver(driver, ctx.now) is None:
        out.replies.append(say(conv, "ride.unavailable"))
        return Go(step="pick")
    rid = hashlib.sha1(ctx.event.event_id.encode()).hexdigest()[:12]  # noqa: S324 - an id, not security
    vehicle = conv.data["vehicle"]
    out.domain.append(
        RideRequested(
            request_id=rid, passenger=conv.wa_id, driver=driver, vehicle=vehicle, km=dist
        )
    )
    out.internal.append(
        (
            driver,
            "wastream.ride.request",
            {"request_id": rid, "passenger": conv.wa_id, "vehicle": vehicle, "km": km(dist)},
        )
    )
    kept.set_ride(
        conv,
        {
            "request_id": rid,
            "driver": driver,
            "vehicle": vehicle,
            "lat": conv.data["lat"],
            "lon": conv.data["lon"],
        },
    )
    conv.deadlines["ride_timeout"] = ctx.now + opts(ctx).ride_timeout_s
    out.replies.append(say(conv, "ride.sent", minutes=f"{opts(ctx).ride_timeout_s / 60:g}"))
    return Go(step="waiting", prompt=False)


def _waiting_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "ride.sent", minutes=f"{opts(ctx).ride_timeout_s / 60:g}")]


def _waiting(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    return None  # only the driver's answer or the timeout moves on (or menu/stop)


FLOW = Flow(
    name="rides_drivers",
    start="vehicle",
    steps={
        "vehicle": Step(prompt=vehicle_prompt, accept=_vehicle),
        "location": Step(prompt=location_prompt("location.ask"), accept=_location),
        "pick": Step(prompt=_pick_prompt, accept=_pick),
        "waiting": Step(prompt=_waiting_prompt, accept=_waiting),
    },
)
