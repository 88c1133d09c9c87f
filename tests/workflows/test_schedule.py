"""Schedule a trip: date/time parsing, reminder 30 minutes before, list and cancel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from streams.domains.rides import kept
from streams.domains.rides.schedule import at_slot, parse_when, show
from streams.engine.model import Options
from tests.support import conversations as c
from tests.support.engine_harness import T0, Harness

U = "250788000401"
TZ = "Africa/Kigali"


def test_parse_when() -> None:
    now = datetime(2026, 9, 21, 10, 0, tzinfo=ZoneInfo(TZ)).timestamp()
    when = parse_when("2026-09-21 14:30", now, TZ)
    assert when == datetime(2026, 9, 21, 14, 30, tzinfo=ZoneInfo(TZ)).timestamp()
    assert parse_when(" 2026-9-22 7:05 ", now, TZ) is not None
    assert parse_when("2026-09-21 09:59", now, TZ) is None  # past
    assert parse_when("2026-02-30 10:00", now, TZ) is None  # no such day
    assert parse_when("tomorrow at 5", now, TZ) is None
    assert show(when or 0, TZ) == "2026-09-21 14:30"
    assert (
        at_slot("2026-09-22", "08:00", TZ)
        == datetime(2026, 9, 22, 8, 0, tzinfo=ZoneInfo(TZ)).timestamp()
    )


def _to_day(h: Harness) -> None:
    h.say(U, "hi")
    h.pick(U, "menu:rides_schedule")
    h.tap(U, "sched:new")
    h.share(U, -1.95, 30.06)
    h.share(U, -1.97, 30.10)


def _tomorrow(h: Harness) -> str:
    return (
        datetime.fromtimestamp(h.now, ZoneInfo(TZ))
        .date()
        .fromordinal(datetime.fromtimestamp(h.now, ZoneInfo(TZ)).date().toordinal() + 1)
        .isoformat()
    )


def test_schedule_with_buttons_and_slot_then_reminder_then_listed() -> None:
    h = Harness(opts=Options(idle_s=10**9))
    _to_day(h)
    slots = h.tap(U, "day:1")
    ids = c.row_ids(slots[0])
    assert ids[0] == "slot:07:00"
    assert len(ids) == 10
    h.pick(U, "slot:08:00")
    confirm = h.pick(U, "vehicle:cab")
    assert f"{_tomorrow(h)} 08:00" in c.body_text(confirm[0])
    done = h.tap(U, "sched:yes")
    assert "I will remind you" in c.body_text(done[0])
    name, data = h.domain[-1][1:]
    assert name == "TripScheduled"
    assert data["vehicle"] == "cab"
    assert data["pickup"] == [-1.95, 30.06]
    when = data["when"]
    assert show(when, TZ) == f"{_tomorrow(h)} 08:00"
    mark = len(h.sent)
    h.advance(when - 1800 - h.now - 1)
    assert h.to(U, mark) == []
    h.advance(2)
    assert "Reminder: your Cab trip" in c.body_text(h.to(U, mark)[0])
    h.pick(U, "menu:rides_schedule")
    listed = h.tap(U, "sched:list")
    assert len(c.row_ids(listed[0])) == 1


def test_typed_date_and_cancel() -> None:
    h = Harness(opts=Options(idle_s=10**9))
    _to_day(h)
    typed = datetime.fromtimestamp(T0 + 3 * 86400, ZoneInfo(TZ)).strftime("%Y-%m-%d") + " 09:15"
    h.say(U, typed)
    h.pick(U, "vehicle:moto")
    h.tap(U, "sched:yes")
    trip_id = h.domain[-1][2]["trip_id"]
    assert f"reminder:{trip_id}" in h.conv(U).deadlines
    h.pick(U, "menu:rides_schedule")
    listed = h.tap(U, "sched:list")
    assert c.row_ids(listed[0]) == [f"trip:{trip_id}"]
    assert listed[0]["interactive"]["action"]["sections"][0]["rows"][0]["title"] == typed
    cancelled = h.pick(U, f"trip:{trip_id}")
    assert "cancelled" in c.body_text(cancelled[0])
    assert h.domain[-1][1] == "TripCancelled"
    assert kept.trips(h.conv(U)) == {}
    assert f"reminder:{trip_id}" not in h.conv(U).deadlines
    mark = len(h.sent)
    h.advance(4 * 86400)
    assert h.to(U, mark) == []  # no reminder for a cancelled trip


def test_bad_or_past_typed_time_is_refused() -> None:
    h = Harness()
    _to_day(h)
    r = h.say(U, "2001-01-01 10:00")
    assert "not valid or already past" in c.body_text(r[0])
    assert h.conv(U).step == "day"


def test_today_after_the_last_slot_offers_no_past_slot() -> None:
    h = Harness()
    late = datetime.fromtimestamp(h.now, ZoneInfo(TZ)).replace(hour=21, minute=0)
    h.now = late.timestamp()
    _to_day(h)
    r = h.tap(U, "day:0")
    assert "not valid or already past" in c.body_text(r[0])
    assert c.row_ids(r[1]) == ["day:0", "day:1"]
    assert h.conv(U).step == "day"
    assert c.row_ids(h.tap(U, "day:1")[0])[0] == "slot:07:00"


def test_no_trips_to_list() -> None:
    h = Harness()
    h.say(U, "hi")
    h.pick(U, "menu:rides_schedule")
    assert "no scheduled trips" in c.body_text(h.tap(U, "sched:list")[0])


def test_abort_at_confirm() -> None:
    h = Harness()
    _to_day(h)
    h.tap(U, "day:1")
    h.pick(U, "slot:10:00")
    h.pick(U, "vehicle:truck")
    assert "Nothing was scheduled" in c.body_text(h.tap(U, "sched:no")[0])
    assert kept.trips(h.conv(U)) == {}
