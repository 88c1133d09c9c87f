"""Rides · schedule a trip.

start (New trip / My trips) → pickup location → drop-off location → day (Today /
Tomorrow buttons, or a typed ``YYYY-MM-DD HH:MM``) → time slot → vehicle → confirm.
``TripScheduled``; a reminder goes out WASTREAM_REMINDER_BEFORE_S (30 min) before;
"My trips" lists the upcoming trips and cancels the one picked (``TripCancelled``).
Times are read and shown in WASTREAM_TZ (default Africa/Kigali).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.domains.rides import kept
from streams.domains.rides.catalog import say, t
from streams.domains.rides.events import TripCancelled, TripReminderSent, TripScheduled
from streams.domains.rides.options import opts
from streams.domains.rides.prompts import location_prompt, pick_vehicle, vehicle_prompt
from streams.domains.rides.templates import TRIP_REMINDER
from streams.engine import messages as m
from streams.engine.flows import MENU, Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out

SLOTS = ("07:00", "08:00", "09:00", "10:00", "12:00", "14:00", "16:00", "17:00", "18:00", "20:00")
_TYPED = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:h.](\d{2})\s*$")


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from datetime import UTC

        return UTC


def parse_when(text: str, now: float, tz: str) -> float | None:
    """A typed ``YYYY-MM-DD HH:MM`` in ``tz`` as epoch seconds; None if malformed or past."""
    mt = _TYPED.match(text)
    if not mt:
        return None
    y, mo, d, hh, mm = (int(x) for x in mt.groups())
    try:
        when = datetime(y, mo, d, hh, mm, tzinfo=zone(tz)).timestamp()
    except ValueError:
        return None
    return when if when > now else None


def at_slot(day: str, hhmm: str, tz: str) -> float | None:
    """``day`` (YYYY-MM-DD) at ``hhmm`` in ``tz`` as epoch seconds."""
    mt = _TIME.match(hhmm)
    if not mt:
        return None
    hh, mm = int(mt.group(1)), int(mt.group(2))
    try:
        y, mo, d = (int(x) for x in day.split("-"))
        return datetime(y, mo, d, hh, mm, tzinfo=zone(tz)).timestamp()
    except ValueError:
        return None


def show(when: float, tz: str) -> str:
    return datetime.fromtimestamp(when, zone(tz)).strftime("%Y-%m-%d %H:%M")


def _start_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [
        m.buttons_body(
            conv.wa_id,
            t(conv, "schedule.body"),
            [
                m.Option("sched:new", t(conv, "schedule.new")),
                m.Option("sched:list", t(conv, "schedule.list")),
            ],
        )
    ]


def _upcoming(conv: Conv, now: float) -> list[tuple[str, dict[str, Any]]]:
    return sorted(
        ((k, v) for k, v in kept.trips(conv).items() if v["when"] > now),
        key=lambda kv: kv[1]["when"],
    )


def _start(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "sched:new" or inp.word == "1":
        return Go(step="pickup")
    if inp.choice == "sched:list" or inp.word == "2":
        trips = _upcoming(conv, ctx.now)
        if not trips:
            out.replies.append(say(conv, "schedule.none"))
            return MENU
        rows = [
            m.Option(f"trip:{k}", show(v["when"], ctx.opts.tz), t(conv, f"vehicle.{v['vehicle']}"))
            for k, v in trips[:10]
        ]
        out.replies.append(
            m.list_body(
                conv.wa_id,
                t(conv, "schedule.trips"),
                t(conv, "schedule.button"),
                rows,
                section=t(conv, "schedule.button"),
            )
        )
        return Go(step="cancel", prompt=False)
    return None


def _pickup(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    return (
        Go(step="dropoff", data={"pickup": [inp.lat, inp.lon]}) if inp.kind == "location" else None
    )


def _dropoff(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    return Go(step="day", data={"dropoff": [inp.lat, inp.lon]}) if inp.kind == "location" else None


def _day_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [
        m.buttons_body(
            conv.wa_id,
            t(conv, "schedule.when"),
            [
                m.Option("day:0", t(conv, "schedule.today")),
                m.Option("day:1", t(conv, "schedule.tomorrow")),
            ],
        )
    ]


def _day(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.kind == "text":
        when = parse_when(inp.text, ctx.now, ctx.opts.tz)
        if when is None:
            out.replies.append(say(conv, "schedule.bad_time"))
            return Go(step="day", prompt=False)
        return Go(step="vehicle", data={"when": when})
    if inp.choice in ("day:0", "day:1"):
        day = datetime.fromtimestamp(ctx.now, zone(ctx.opts.tz)) + timedelta(
            days=int(inp.choice[4:])
        )
        conv.data["day"] = day.strftime("%Y-%m-%d")
        if not _free_slots(ctx, conv):  # today, after the last slot
            out.replies.append(say(conv, "schedule.bad_time"))
            return Go(step="day")
        return Go(step="slot")
    return None


def _free_slots(ctx: Ctx, conv: Conv) -> list[str]:
    day = conv.data.get("day", "")
    return [s for s in SLOTS if (at_slot(day, s, ctx.opts.tz) or 0) > ctx.now]


def _slot_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    slots = _free_slots(ctx, conv)
    if not slots:
        return [say(conv, "schedule.bad_time"), *_day_prompt(ctx, conv)]
    return [
        m.list_body(
            conv.wa_id,
            t(conv, "schedule.slot"),
            t(conv, "schedule.slot.button"),
            [m.Option(f"slot:{s}", s) for s in slots],
            section=conv.data.get("day", ""),
        )
    ]


def _slot(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    hhmm = inp.choice.removeprefix("slot:") if inp.choice.startswith("slot:") else inp.text
    if inp.kind == "text" and _TYPED.match(inp.text):
        return _day(ctx, conv, inp, out)
    when = at_slot(conv.data.get("day", ""), hhmm, ctx.opts.tz)
    if when is None or when <= ctx.now:
        return None
    return Go(step="vehicle", data={"when": when})


def _vehicle(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    v = pick_vehicle(inp.choice, inp.word, [])
    return Go(step="confirm", data={"vehicle": v}) if v else None


def _confirm_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    body = t(
        conv,
        "schedule.confirm",
        vehicle=t(conv, f"vehicle.{conv.data['vehicle']}"),
        when=show(conv.data["when"], ctx.opts.tz),
    )
    return [
        m.buttons_body(
            conv.wa_id,
            body,
            [
                m.Option("sched:yes", t(conv, "schedule.yes")),
                m.Option("sched:no", t(conv, "schedule.no")),
            ],
        )
    ]


def _confirm(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "sched:no":
        out.replies.append(say(conv, "schedule.aborted"))
        return MENU
    if inp.choice != "sched:yes":
        return None
    d = conv.data
    trip_id = hashlib.sha1(ctx.event.event_id.encode()).hexdigest()[:10]  # noqa: S324 - an id
    trip = {
        "when": d["when"],
        "vehicle": d["vehicle"],
        "pickup": d["pickup"],
        "dropoff": d["dropoff"],
    }
    trips = {k: v for k, v in kept.trips(conv).items() if v["when"] > ctx.now}
    trips[trip_id] = trip
    kept.set_trips(conv, trips)
    conv.deadlines[f"reminder:{trip_id}"] = max(ctx.now, d["when"] - opts(ctx).reminder_before_s)
    out.domain.append(TripScheduled(trip_id=trip_id, **trip))
    out.replies.append(say(conv, "schedule.done", when=show(d["when"], ctx.opts.tz)))
    return Go(step="main", flow="menu", prompt=False)


def _cancel_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    out = Out()
    _start(ctx, conv, Input("choice", choice="sched:list"), out)
    return out.replies


def _cancel(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    trip_id = inp.choice.removeprefix("trip:") if inp.choice.startswith("trip:") else ""
    trip = kept.trips(conv).pop(trip_id, None)
    if trip is None:
        return None
    conv.deadlines.pop(f"reminder:{trip_id}", None)
    out.domain.append(TripCancelled(trip_id=trip_id))
    out.replies.append(say(conv, "schedule.cancelled", when=show(trip["when"], ctx.opts.tz)))
    return MENU


def _reminder(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    trip_id = str(p["kind"]).split(":", 1)[1]
    trip = kept.trips(conv).get(trip_id)
    if trip is not None:
        vehicle, when = t(conv, f"vehicle.{trip['vehicle']}"), show(trip["when"], ctx.opts.tz)
        out.replies.append(m.templated(
            say(conv, "schedule.reminder", vehicle=vehicle, when=when),
            TRIP_REMINDER.ref(vehicle, when), conv.lang))
        out.domain.append(TripReminderSent(trip_id=trip_id))
    return None


FLOW = Flow(
    name="schedule",
    start="start",
    steps={
        "start": Step(prompt=_start_prompt, accept=_start),
        "pickup": Step(prompt=location_prompt("location.pickup"), accept=_pickup),
        "dropoff": Step(prompt=location_prompt("location.dropoff"), accept=_dropoff),
        "day": Step(prompt=_day_prompt, accept=_day),
        "slot": Step(prompt=_slot_prompt, accept=_slot),
        "vehicle": Step(prompt=vehicle_prompt, accept=_vehicle),
        "confirm": Step(prompt=_confirm_prompt, accept=_confirm),
        "cancel": Step(prompt=_cancel_prompt, accept=_cancel),
    },
    timers={"reminder": _reminder},
)
