"""The global rules of every conversation (pure engine, no broker)."""

from __future__ import annotations

from streams.agent.dedupe import Seen, seen_key
from streams.engine.model import Options
from streams.failure.recovery import recovery_event
from tests.support import conversations as c
from tests.support.engine_harness import Harness

U = "250788000111"


def test_hi_shows_the_main_menu_and_a_transition() -> None:
    h = Harness()
    replies = h.say(U, "hi")
    assert len(replies) == 1
    assert c.row_ids(replies[0])[0] == "menu:rides_drivers"
    assert h.transitions == [(U, 1, "menu", "main")]


def test_menu_words_return_to_the_menu_from_any_step() -> None:
    for word in ("menu", "Home", "0", "accueil", "ahabanza"):
        h = Harness()
        h.say(U, "hi")
        h.pick(U, "menu:rides_drivers")
        assert h.conv(U).flow == "rides_drivers"
        replies = h.say(U, word)
        assert h.conv(U).flow == "menu", word
        assert "menu:rides_drivers" in c.row_ids(replies[-1])


def test_stop_ends_politely_and_the_next_message_starts_at_the_menu() -> None:
    h = Harness()
    h.say(U, "hi")
    h.pick(U, "menu:rides_passengers")
    replies = h.say(U, "STOP")
    assert (h.conv(U).flow, h.conv(U).step) == ("ended", "stopped")
    assert "Goodbye" in c.body_text(replies[0])
    assert c.row_ids(h.say(U, "hello")[0])[0] == "menu:rides_drivers"


def test_a_miss_is_reprompted_and_the_third_offers_the_menu() -> None:
    h = Harness()
    h.say(U, "hi")
    h.pick(U, "menu:rides_drivers")
    first = h.say(U, "banana")
    assert "did not understand" in c.body_text(first[0])
    assert c.row_ids(first[1])[0] == "vehicle:moto"  # the step's prompt again
    assert len(first) == 2
    second = h.say(U, "banana")
    assert len(second) == 2
    third = h.say(U, "banana")
    assert c.row_ids(third[-1]) == ["menu"]
    assert h.conv(U).step == "vehicle"  # still there: offered, not forced
    assert c.row_ids(h.tap(U, "menu")[0])[0] == "menu:rides_drivers"


def test_an_image_where_a_choice_is_expected_is_a_miss_never_silence() -> None:
    h = Harness()
    h.say(U, "hi")
    h.pick(U, "menu:rides_drivers")
    ev = c._event(U, {"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}})
    assert len(h.replies(ev)) == 2


def test_a_reaction_changes_nothing_and_sends_nothing() -> None:
    h = Harness()
    h.say(U, "hi")
    seq = h.conv(U).seq
    ev = c._event(U, {"type": "reaction", "reaction": {"message_id": "x", "emoji": "👍"}})
    assert h.replies(ev) == []
    assert h.conv(U).seq == seq


def test_a_duplicate_delivery_changes_nothing_and_sends_nothing() -> None:
    h = Harness()
    h.say(U, "hi")
    ev = c.pick(U, "menu:rides_drivers")
    assert len(h.replies(ev)) == 1
    stored = h.stored[U]
    n = len(h.sent)
    assert h.deliver(ev) is None
    assert h.stored[U] == stored
    assert len(h.sent) == n


def test_dedupe_forgets_after_its_ttl() -> None:
    h = Harness(opts=Options(dedupe_ttl_s=60))
    ev = c.text(U, "hi")
    h.deliver(ev)
    h.advance(61)
    assert h.deliver(ev) is not None
    entry = Seen.from_bytes(h.seen[seen_key(U, ev.event_id)])
    assert entry is not None
    assert (entry.offset, entry.expiry) == (h.offset, h.now + 60)


def test_idle_conversation_expires_by_timer_and_next_message_gets_the_note() -> None:
    h = Harness(opts=Options(idle_s=30))
    h.say(U, "hi")
    h.pick(U, "menu:rides_drivers")
    h.pick(U, "vehicle:cab")
    h.advance(29)
    assert h.conv(U).flow == "rides_drivers"
    h.advance(2)
    assert (h.conv(U).flow, h.conv(U).step) == ("expired", "idle")
    assert h.transitions[-1][2:] == ("expired", "idle")
    replies = h.share(U, -1.95, 30.06)  # what would have answered the old step
    assert len(replies) == 1
    assert c.body_text(replies[0]).startswith("Your earlier conversation expired")
    assert h.conv(U).flow == "menu"


def test_expiry_without_the_timer_still_applies_on_the_next_message() -> None:
    h = Harness(opts=Options(idle_s=30))
    h.say(U, "hi")
    h.pick(U, "menu:rides_drivers")
    h.now += 31  # the timer did not run (worker down)
    replies = h.pick(U, "vehicle:cab")
    assert "expired" in c.body_text(replies[0])
    assert h.conv(U).flow == "menu"


def test_activity_keeps_a_conversation_alive() -> None:
    h = Harness(opts=Options(idle_s=30))
    h.say(U, "hi")
    h.pick(U, "menu:rides_drivers")
    for _ in range(3):
        h.advance(20)
        h.say(U, "banana")  # even misses are activity
    assert h.conv(U).flow == "rides_drivers"


def test_the_language_choice_persists_and_translates_prompts() -> None:
    h = Harness()
    h.say(U, "hi")
    h.pick(U, "menu:language")
    replies = h.tap(U, "lang:fr")
    assert c.body_text(replies[0]) == "Langue : français."
    assert "Bonjour" in c.body_text(replies[1])
    h.say(U, "stop")
    h.advance(3600)
    assert "Bonjour" in c.body_text(h.say(U, "salut")[0])
    assert h.conv(U).lang == "fr"
    h.pick(U, "menu:language")
    h.tap(U, "lang:rw")
    assert "Muraho" in c.body_text(h.say(U, "menu")[0])


def test_statuses_are_passed_on_and_leave_the_conversation_as_it_is() -> None:
    """Every status goes to wa.delivery, a repeated one too (the read model keeps one row
    per message and status, and the highest rank in any order: projections/outbound.py);
    none is written into the conversation."""
    h = Harness()
    h.say(U, "hi")
    stored, seen = h.stored[U], dict(h.seen)
    statuses = ["sent", "read", "delivered", "sent", "failed", "read"]
    for st in statuses:
        h.deliver(c.status(U, "wamid.OUT1", st))
    assert [d["status"] for d in h.delivery] == statuses
    h.deliver(c.status(U, "wamid.OUT2", "delivered"))
    assert h.delivery[-1] == {"status": "delivered", "wamid": "wamid.OUT2", "error": None}
    assert h.stored[U] == stored  # not a transition, not even a write
    assert h.seen == seen


def test_recovery_resets_to_the_menu_with_an_apology() -> None:
    h = Harness()
    h.say(U, "hi")
    h.pick(U, "menu:rides_schedule")
    h.tap(U, "sched:new")
    rec = recovery_event("recovery:abc", U, reason="boom", failed_event_id="w1",
                         dlq_id="wa.inbound:0:7")
    replies = h.replies(rec)
    assert "Sorry, something went wrong" in c.body_text(replies[0])
    assert c.row_ids(replies[1])[0] == "menu:rides_drivers"
    assert (h.conv(U).flow, h.conv(U).step) == ("menu", "main")
    assert h.recovery == [
        {
            "recovery_id": "recovery:abc",
            "reason": "boom",
            "failed_event_id": "w1",
            "from_flow": "schedule",
            "from_step": "pickup",
        }
    ]


def test_a_recovery_after_the_window_closed_sends_the_apology_as_its_template() -> None:
    from streams.engine import window

    h = Harness()
    h.say(U, "hi")
    h.now = h.conv(U).last_inbound + h.opts.window_s + 3600  # a redrive 25 h later
    rec = recovery_event("recovery:late", U, reason="boom", failed_event_id="timer:x",
                         dlq_id="wa.inbound:0:9")  # an internal event failed: no failed_at
    replies = h.replies(rec)
    assert len(replies) == 1  # the menu waits for the user's reply
    body, fallback = window.choose(replies[0], h.conv(U), h.now, h.opts.window_s)
    assert body["type"] == "template"
    assert body["template"]["name"] == "service_recovery"
    assert fallback == body


def test_a_recovery_of_the_users_own_message_counts_it_as_their_last_message() -> None:
    from streams.engine import window

    h = Harness()
    h.say(U, "hi")
    h.now = h.conv(U).last_inbound + 3 * h.opts.window_s
    failed_at = int(h.now) - 5  # the message that failed, just sent
    rec = recovery_event("recovery:own", U, reason="boom", failed_event_id="wamid.F",
                         dlq_id="wa.inbound:0:10", failed_at=failed_at)
    replies = h.replies(rec)
    assert h.conv(U).last_inbound == failed_at
    assert len(replies) == 2  # the apology, free-form, then the menu
    body, fallback = window.choose(replies[0], h.conv(U), h.now, h.opts.window_s)
    assert "Sorry, something went wrong" in c.body_text(body)
    assert fallback is not None
    assert fallback["template"]["name"] == "service_recovery"
    assert c.row_ids(replies[1])[0] == "menu:rides_drivers"


def test_state_round_trips_through_bytes_with_unknown_fields_ignored() -> None:
    import orjson

    from streams.engine.model import Conv

    conv = Conv(wa_id=U, flow="schedule", step="day", data={"x": 1}, deadlines={"idle": 5.0})
    raw = orjson.dumps({**orjson.loads(conv.to_bytes()), "from_the_future": True})
    assert Conv.from_bytes(raw, U) == conv


def test_the_conversation_record_does_not_grow_with_the_users_history() -> None:
    """Issue 10: no ids of past events or messages in the record rewritten per event."""
    h = Harness()
    h.say(U, "hi")
    for i in range(10):
        h.say(U, f"hello {i}")
        h.deliver(c.status(U, f"wamid.{i}", "delivered"))
    size = len(h.stored[U])
    for i in range(10, 2000):
        h.say(U, f"hello {i}")
        h.deliver(c.status(U, f"wamid.{i}", "delivered"))
    assert len(h.stored[U]) <= size + 16, (size, h.stored[U])  # the place's digits


def test_business_updates_keyed_by_the_waba_are_not_user_input() -> None:
    """`message_template_status_update` and kin share the "message" prefix but are no
    user's message: they must not start a conversation or get a reply."""
    from schemas.envelope import InboundEvent

    h = Harness()
    waba = "102290129340398"
    for kind in ("message_template_status_update", "message_template_quality_update"):
        ev = InboundEvent(event_id=f"h-{kind}", type=kind, wa_id=waba, phone_number_id=None,
                          timestamp=None, received_at="2026-11-29T00:00:00Z",
                          correlation_id="c", payload={"event": "APPROVED"},
                          field=kind, waba_id=waba)
        out = h.deliver(ev)
        assert out is not None
        assert out.replies == []
    assert h.sent == []
    assert h.transitions == []
