"""Rides state machines: nearby drivers, requests across two conversations, nearby
passengers (pure engine + rides index)."""

from __future__ import annotations

from streams.domains.rides import kept
from streams.domains.rides.index import RidesIndex
from streams.domains.rides.options import RidesOptions
from streams.engine.common import haversine_km
from streams.engine.model import Options
from tests.support import conversations as c
from tests.support.engine_harness import Harness

P = "250788000201"  # passenger
D = "250788000301"  # driver
KIGALI = (-1.9441, 30.0619)


def _online(h: Harness, wa_id: str, vehicle: str, lat: float, lon: float) -> None:
    h.say(wa_id, "hi")
    h.pick(wa_id, "menu:rides_passengers")
    h.pick(wa_id, f"vehicle:{vehicle}")
    h.share(wa_id, lat, lon)


def _search(h: Harness, vehicle: str = "moto") -> list[dict]:  # type: ignore[type-arg]
    h.say(P, "hi")
    h.pick(P, "menu:rides_drivers")
    h.pick(P, f"vehicle:{vehicle}")
    return h.share(P, *KIGALI)


def test_haversine_matches_known_distance() -> None:
    # Kigali → Nairobi is about 755 km as the crow flies.
    assert abs(haversine_km(-1.9441, 30.0619, -1.2921, 36.8219) - 755) < 10
    assert haversine_km(1, 1, 1, 1) == 0


def test_index_radius_vehicle_expiry_nearest_first_at_most_ten() -> None:
    idx = RidesIndex(radius_km=10)
    now = 1000.0
    for i in range(15):  # 0.01° of latitude ≈ 1.1 km; listed in reverse order on purpose
        idx.online[f"d{14 - i:02d}"] = {
            "vehicle": "moto",
            "lat": KIGALI[0] + (14 - i) * 0.005,
            "lon": KIGALI[1],
            "until": now + 60,
        }
    idx.online["far"] = {
        "vehicle": "moto",
        "lat": KIGALI[0] + 0.2,
        "lon": KIGALI[1],
        "until": now + 60,
    }
    idx.online["cab"] = {"vehicle": "cab", "lat": KIGALI[0], "lon": KIGALI[1], "until": now + 60}
    idx.online["old"] = {"vehicle": "moto", "lat": KIGALI[0], "lon": KIGALI[1], "until": now - 1}
    found = idx.drivers("moto", *KIGALI, now=now)
    assert [w for w, _ in found] == [f"d{i:02d}" for i in range(10)]
    assert [d for _, d in found] == sorted(d for _, d in found)
    assert all(d <= 10 for _, d in found)
    assert idx.drivers("moto", *KIGALI, now=now, exclude="d00")[0][0] == "d01"
    assert [w for w, _ in idx.drivers("cab", *KIGALI, now=now)] == ["cab"]


def test_passenger_finds_online_drivers_with_distance() -> None:
    h = Harness()
    _online(h, D, "moto", KIGALI[0] + 0.01, KIGALI[1])
    assert h.domain[-1][:2] == (D, "DriverOnline")
    replies = _search(h)
    assert c.row_ids(replies[0]) == [f"driver:{D}"]
    row = replies[0]["interactive"]["action"]["sections"][0]["rows"][0]
    assert row["description"] == "1.1 km away"
    assert h.domain[-1][:2] == (P, "RideSearched")


def test_no_driver_of_that_type_says_so_and_returns_to_menu() -> None:
    h = Harness()
    _online(h, D, "cab", *KIGALI)
    replies = _search(h, "moto")
    assert "No Moto drivers online within 10 km" in c.body_text(replies[0])
    assert h.conv(P).flow == "menu"


def test_request_accept_tells_both() -> None:
    h = Harness()
    _online(h, D, "moto", *KIGALI)
    _search(h)
    mark = len(h.sent)
    h.pick(P, f"driver:{D}")
    to_driver = h.to(D, mark)
    assert len(to_driver) == 1
    assert to_driver[0]["interactive"]["type"] == "button"
    accept, decline = c.row_ids(to_driver[0])
    assert accept.startswith("ride:accept:")
    assert decline.startswith("ride:decline:")
    assert h.conv(P).step == "waiting"
    mark = len(h.sent)
    h.tap(D, accept)
    assert f"+{P}" in c.body_text(h.to(D, mark)[0])
    assert f"+{D}" in c.body_text(h.to(P, mark)[0])
    assert [n for _, n, _ in h.domain[-2:]] == ["RideRequested", "RideAccepted"]
    assert kept.ride(h.conv(P)) is None
    assert "ride_timeout" not in h.conv(P).deadlines
    assert kept.pending(h.conv(D)) == {}


def test_decline_lets_the_passenger_pick_again() -> None:
    h = Harness()
    _online(h, D, "moto", *KIGALI)
    _search(h)
    mark = len(h.sent)
    h.pick(P, f"driver:{D}")
    h.tap(D, c.row_ids(h.to(D, mark)[0])[1])
    to_p = h.to(P, mark)
    assert "declined" in c.body_text(to_p[-2])
    assert c.row_ids(to_p[-1]) == [f"driver:{D}"]
    assert h.conv(P).step == "pick"
    assert h.domain[-1][1] == "RideDeclined"


def test_unanswered_request_times_out_and_a_late_accept_is_refused() -> None:
    h = Harness(options={"rides": RidesOptions(ride_timeout_s=300)})
    _online(h, D, "moto", *KIGALI)
    _search(h)
    mark = len(h.sent)
    h.pick(P, f"driver:{D}")
    accept = c.row_ids(h.to(D, mark)[0])[0]
    h.advance(299)
    assert h.conv(P).step == "waiting"
    h.advance(2)
    to_p = h.to(P, mark)
    assert "did not answer in time" in c.body_text(to_p[-2])
    assert h.conv(P).step == "pick"
    assert h.domain[-1][1] == "RideTimedOut"
    assert "no longer open" in c.body_text(h.to(D, mark)[-1])  # told by the close event
    late = h.tap(D, accept)
    assert "no longer open" in c.body_text(late[0])
    assert "RideAccepted" not in [n for _, n, _ in h.domain]


def test_answer_after_passenger_moved_on_is_refused_and_closes_on_driver_side() -> None:
    h = Harness()
    _online(h, D, "moto", *KIGALI)
    _search(h)
    mark = len(h.sent)
    h.pick(P, f"driver:{D}")
    h.say(P, "stop")  # withdraws the request
    assert "no longer open" in c.body_text(h.to(D, mark)[-1])
    assert kept.pending(h.conv(D)) == {}


def test_driver_goes_offline_after_30_minutes() -> None:
    h = Harness(opts=Options(idle_s=10_000), options={"rides": RidesOptions(online_s=1800)})
    _online(h, D, "moto", *KIGALI)
    index = h.model("rides", RidesIndex)
    assert index.driver(D, h.now) is not None
    h.advance(1801)
    assert h.domain[-1][:2] == (D, "DriverOffline")
    assert index.driver(D, h.now) is None
    assert _search(h)[0]["type"] == "text"  # none found


def test_driver_sees_nearby_passengers_and_offers_a_ride() -> None:
    h = Harness()
    _search(h, "cab")  # passenger searched first (nobody online)
    h.say(D, "hi")
    h.pick(D, "menu:rides_passengers")
    h.pick(D, "vehicle:cab")
    replies = h.share(D, KIGALI[0] + 0.02, KIGALI[1])
    assert "online as a Cab driver for 30 minutes" in c.body_text(replies[0])
    assert c.row_ids(replies[1]) == [f"passenger:{P}"]
    mark = len(h.sent)
    h.pick(D, f"passenger:{P}")
    assert "offers you a ride" in c.body_text(h.to(P, mark)[0])
    assert h.domain[-1][1] == "RideOffered"


def test_pick_by_typed_number() -> None:
    h = Harness()
    _online(h, D, "moto", *KIGALI)
    _search(h)
    assert "Request sent" in c.body_text(h.say(P, "1")[0])


def test_recovery_while_waiting_keeps_the_request_alive_until_its_timeout() -> None:
    from streams.failure.recovery import recovery_event

    h = Harness(options={"rides": RidesOptions(ride_timeout_s=300)})
    _online(h, D, "moto", *KIGALI)
    _search(h)
    h.pick(P, f"driver:{D}")
    h.deliver(recovery_event("recovery:x", P, reason="boom", failed_event_id="w1",
                             dlq_id="wa.inbound:0:1"))
    assert h.conv(P).flow == "menu"
    mark = len(h.sent)
    h.advance(301)
    assert "did not answer in time" in c.body_text(h.to(P, mark)[0])
    assert h.domain[-1][1] == "RideTimedOut"


def _old_record(wa_id: str, **fields: object) -> bytes:
    """A conversation as the code before domains had slots stored it (ride, pending and
    trips were top-level fields of the record)."""
    import orjson

    rec: dict[str, object] = {
        "wa_id": wa_id, "flow": "menu", "step": "main", "lang": "en", "seq": 3, "data": {},
        "misses": 0, "last_at": 0.0, "deadlines": {}, "trips": {}, "pending": {}, "ride": None,
        "seen": {}, "dlv": {}, "phone_number_id": None,
    }
    rec.update(fields)
    return orjson.dumps(rec)


def test_conversations_stored_by_the_old_code_carry_on() -> None:
    import orjson

    h = Harness()
    rid, until = "abc123def456", h.now + 200
    ride = {"request_id": rid, "driver": D, "vehicle": "moto", "lat": KIGALI[0], "lon": KIGALI[1]}
    trip = {"when": h.now + 86400, "vehicle": "cab", "pickup": [-1.95, 30.06],
            "dropoff": [-1.96, 30.07]}
    pending = {rid: {"passenger": P, "vehicle": "moto", "until": until}}
    h.stored[P] = _old_record(
        P, flow="rides_drivers", step="waiting", last_at=h.now - 5,
        data={"vehicle": "moto", "lat": KIGALI[0], "lon": KIGALI[1], "listed": [[D, 1.1]]},
        deadlines={"idle": h.now + 1000, "ride_timeout": until}, ride=ride, trips={"t1": trip})
    h.stored[D] = _old_record(D, last_at=h.now - 5, pending=pending)
    assert kept.ride(h.conv(P)) == ride
    assert kept.trips(h.conv(P)) == {"t1": trip}
    assert h.conv(D).domains == {"rides": {"pending": pending}}  # empty fields are not carried
    # the driver's Accept, tapped on a button the old code sent, still works
    mark = len(h.sent)
    h.tap(D, f"ride:accept:{rid}")
    assert f"+{P}" in c.body_text(h.to(D, mark)[0])
    assert f"+{D}" in c.body_text(h.to(P, mark)[0])
    assert kept.ride(h.conv(P)) is None
    assert "ride_timeout" not in h.conv(P).deadlines
    stored = orjson.loads(h.stored[P])  # written back in the new shape
    assert "ride" not in stored
    assert "trips" not in stored
    assert stored["domains"] == {"rides": {"trips": {"t1": trip}}}
    # and the trip booked before the upgrade is still listed
    h.pick(P, "menu:rides_schedule")
    assert c.row_ids(h.tap(P, "sched:list")[0]) == ["trip:t1"]
