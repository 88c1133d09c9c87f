"""Meta's customer-service window (decision 0015): each user's conversation keeps the
Meta timestamp of their last message, and a notification with a template goes as its
template when its recipient's window is closed (pure engine and ``window.choose``)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from schemas.envelope import InboundEvent
from streams.engine import messages as m
from streams.engine import window
from streams.engine.model import Conv
from streams.engine.templates import Template
from tests.support import conversations as c
from tests.support.engine_harness import Harness
from tests.support.webhooks import PHONE_NUMBER_ID

P = "250788000201"  # passenger
D = "250788000301"  # driver
KIGALI = (-1.9441, 30.0619)
DAY = 86400.0


def _at(ev: InboundEvent, ts: int) -> InboundEvent:
    """``ev`` as if Meta had stamped it at ``ts``."""
    return dataclasses.replace(ev, timestamp=ts)


def template_button(wa_id: str, payload: str, text: str) -> InboundEvent:
    """A tap on a template's quick-reply button, as Meta sends it (type ``button``)."""
    wamid = f"wamid.T{uuid.uuid4().hex}"
    return InboundEvent(event_id=wamid, type="message.button", wa_id=wa_id,
                        phone_number_id=PHONE_NUMBER_ID, timestamp=1_790_000_000,
                        received_at="", correlation_id="",
                        payload={"from": wa_id, "id": wamid, "type": "button",
                                 "button": {"payload": payload, "text": text}})


def test_the_window_is_the_last_message_timestamp_and_only_messages_move_it() -> None:
    h = Harness()
    h.deliver(_at(c.text(D, "hi"), 1000))
    assert h.conv(D).last_inbound == 1000  # kept in the stored record (round trip)
    h.deliver(_at(c.text(D, "menu"), 900))  # a late webhook does not move it back
    assert h.conv(D).last_inbound == 1000
    h.deliver(InboundEvent(event_id="x:wastream.ride.closed", type="wastream.ride.closed",
                           wa_id=D, phone_number_id=None, timestamp=5000, received_at="",
                           correlation_id="", payload={"request_id": "r"}, field="wastream"))
    h.deliver(InboundEvent(event_id="st1", type="status.delivered", wa_id=D,
                           phone_number_id=PHONE_NUMBER_ID, timestamp=6000, received_at="",
                           correlation_id="", payload={"id": "wamid.X", "status": "delivered"}))
    assert h.conv(D).last_inbound == 1000  # another user's event and a status: not the user's
    h.deliver(_at(c.text(D, "menu"), 2000))
    assert h.conv(D).last_inbound == 2000
    assert Conv.from_bytes(Conv(wa_id=D, last_inbound=7).to_bytes(), D).last_inbound == 7


def _request_to_quiet_driver(h: Harness, went_online: int) -> tuple[dict[str, Any], str]:
    """The driver went online at ``went_online``; a passenger requests them now."""
    for ev in (c.text(D, "hi"), c.pick(D, "menu:rides_passengers"), c.pick(D, "vehicle:moto"),
               c.location(D, *KIGALI)):
        h.deliver(_at(ev, went_online))
    h.say(P, "hi")
    h.pick(P, "menu:rides_drivers")
    h.pick(P, "vehicle:moto")
    h.share(P, *KIGALI)
    mark = len(h.sent)
    h.pick(P, f"driver:{D}")
    (request,) = h.to(D, mark)
    return request, c.row_ids({k: v for k, v in request.items() if k != m.TEMPLATE})[0]


def test_a_ride_request_to_a_quiet_driver_goes_as_its_template_with_the_same_payloads() -> None:
    h = Harness()
    request, accept = _request_to_quiet_driver(h, went_online=int(h.now - 25 * 3600))
    body, template = window.choose(request, h.conv(D), h.now, DAY)
    assert body is template
    assert body["type"] == "template"
    t = body["template"]
    assert t["name"] == "ride_request"
    assert t["language"] == {"code": "en"}
    assert t["components"][0]["parameters"][1] == {"type": "text", "text": "Moto"}
    payloads = [comp["parameters"][0]["payload"] for comp in t["components"][1:]]
    assert payloads == [accept, accept.replace("accept", "decline")]
    # The Accept quick reply comes back as a `button` message: the same choice.
    h.deliver(template_button(D, payloads[0], "Accept"))
    assert [n for _, n, _ in h.domain][-1] == "RideAccepted"


def test_the_same_request_goes_free_form_while_the_window_is_open() -> None:
    h = Harness()
    request, _ = _request_to_quiet_driver(h, went_online=int(h.now - 23 * 3600))
    body, template = window.choose(request, h.conv(D), h.now, DAY)
    assert body["type"] == "interactive"
    assert m.TEMPLATE not in body
    assert template is not None
    assert template["type"] == "template"
    # The window is the setting: a shorter one closes it.
    assert window.choose(request, h.conv(D), h.now, 3600)[0]["type"] == "template"


def test_free_form_resumes_when_the_user_writes_again() -> None:
    conv = Conv(wa_id=D, last_inbound=1000)
    reply = m.templated(m.text_body(D, "hello"), m.TemplateRef("ride_request_closed"), "fr")
    assert window.choose(reply, conv, 1000 + DAY, DAY)[0]["type"] == "template"
    conv.last_inbound = int(1000 + DAY - 5)  # the user wrote again
    body, template = window.choose(reply, conv, 1000 + DAY, DAY)
    assert body == m.text_body(D, "hello")
    assert template is not None
    assert template["template"]["language"] == {"code": "fr"}


def test_a_reply_without_a_template_goes_as_it_is() -> None:
    conv = Conv(wa_id=D, last_inbound=0)
    assert window.choose(m.text_body(D, "hi"), conv, 10 * DAY, DAY) == (m.text_body(D, "hi"),
                                                                          None)


def test_a_trip_reminder_to_a_quiet_user_goes_as_its_template() -> None:
    h = Harness()
    for ev in (c.text(P, "hi"), c.pick(P, "menu:rides_schedule"), c.button(P, "sched:new"),
               c.location(P, *KIGALI), c.location(P, *KIGALI), c.button(P, "day:1"),
               c.pick(P, "slot:09:00"), c.pick(P, "vehicle:cab"), c.button(P, "sched:yes")):
        h.deliver(_at(ev, int(h.now)))
    mark = len(h.sent)
    h.advance(2 * DAY)
    (reminder,) = h.to(P, mark)
    body, _ = window.choose(reminder, h.conv(P), h.now, DAY)
    assert body["template"]["name"] == "trip_reminder"
    vehicle, when = (p["text"] for p in body["template"]["components"][0]["parameters"])
    assert vehicle == "Cab"
    assert when.endswith("09:00")


def test_template_parameters_are_made_acceptable_and_counts_are_checked() -> None:
    tpl = Template("x_y", {"en": "a {{1}} b"}, examples=("e",))
    body = m.template_body(D, tpl.ref("two\nlines\t  and    spaces"), "rw")
    assert body["template"]["components"][0]["parameters"][0]["text"] == \
        "two lines and spaces"
    assert body["template"]["language"] == {"code": "rw_RW"}
    for wrong in ((), ("a", "b")):
        try:
            tpl.ref(*wrong)
        except ValueError:
            continue
        raise AssertionError(f"{wrong} accepted")


def test_a_buyers_interest_and_the_farmers_answer_go_as_templates_when_quiet() -> None:
    from tests.domains.farmer.test_farmer import F1, NEAR, B, _list, _open

    h = Harness()
    lid = _list(h, F1, "I sell 300 kg of beans at 700 rwf", NEAR)
    _open(h, B)
    h.say(B, "beans in Musanze")
    h.pick(B, f"offer:{lid}")
    mark = len(h.sent)
    h.deliver(dataclasses.replace(c.button(B, "offer:interested"), profile_name="Aline"))
    (asked,) = h.to(F1, mark)
    farmer = h.conv(F1)  # who listed three days ago, say, and was quiet since
    assert window.choose(asked, farmer, farmer.last_inbound + 60, DAY)[0] == {
        k: v for k, v in asked.items() if k != m.TEMPLATE}  # free-form within the window
    body, _ = window.choose(asked, farmer, farmer.last_inbound + 3 * DAY, DAY)
    assert body["template"]["name"] == "farmer_interest"
    buyer, what = (p["text"] for p in body["template"]["components"][0]["parameters"])
    assert (buyer, what) == ("Aline", "Beans (300 kg)")
    accept = body["template"]["components"][1]["parameters"][0]["payload"]
    assert accept.startswith("produce:accept:")
    mark = len(h.sent)  # the farmer answers by the template's button, days later
    h.deliver(template_button(F1, accept, "Accept"))
    (news,) = h.to(B, mark)
    buyer_conv = h.conv(B)
    body, _ = window.choose(news, buyer_conv, buyer_conv.last_inbound + 2 * DAY, DAY)
    assert body["template"]["name"] == "farmer_interest_answer"
    assert f"https://wa.me/{F1}" in body["template"]["components"][0]["parameters"][0]["text"]
