"""The notifications to a quiet user (decision 0015) that ``test_window.py`` does not
follow: each goes as the template its domain names, its quick replies carry the
interactive version's ids in order, and a press (a ``button`` message) goes on with the
flow as the interactive tap does. ``test_window.py`` has the ride request, the trip
reminder and the farmer market's two."""

from __future__ import annotations

import dataclasses
from typing import Any

from streams.domains.broker.events import BrokerAccepted
from streams.domains.broker.options import BrokerOptions
from streams.domains.jobs.events import ApplicantContacted, JobExpired
from streams.domains.rentals.events import RentalContacted, RentalExpired, RentalRenewed
from streams.domains.rides.options import RidesOptions
from streams.engine import messages as m
from streams.engine import window
from streams.engine.model import Conv
from tests.domains.broker import test_broker as broker
from tests.domains.jobs import test_jobs as jobs
from tests.domains.rentals import test_rentals as rentals
from tests.support import conversations as c
from tests.support.engine_harness import Harness
from tests.templates.test_window import DAY, template_button
from tests.workflows import test_rides as rides


def quiet(reply: dict[str, Any], conv: Conv) -> dict[str, Any]:
    """``reply`` as sent two days after ``conv``'s user last wrote: its template, whose
    quick replies carry the free-form version's ids in the same order."""
    assert window.choose(reply, conv, conv.last_inbound + 60, DAY)[0]["type"] != "template"
    body, template = window.choose(reply, conv, conv.last_inbound + 2 * DAY, DAY)
    assert body["type"] == "template"
    assert body is template
    free = {k: v for k, v in reply.items() if k != m.TEMPLATE}
    ids = c.row_ids(free) if free["type"] == "interactive" else []
    assert payloads(body) == ids
    return body


def payloads(body: dict[str, Any]) -> list[str]:
    return [comp["parameters"][0]["payload"] for comp in body["template"].get("components", [])
            if comp["type"] == "button"]


def name(body: dict[str, Any]) -> str:
    return str(body["template"]["name"])


def test_a_need_to_a_vendor_who_never_wrote_goes_as_its_template_and_accept_is_taken(
        ) -> None:
    h = Harness()
    broker._vendors(h)  # imported: none of the vendors ever wrote
    h.say(broker.U, "hi")
    h.pick(broker.U, "menu:broker")
    h.say(broker.U, "I need a plumber in Kicukiro")
    mark = len(h.sent)
    h.deliver(dataclasses.replace(c.pick(broker.U, f"vendor:{broker.V1}"),
                                  profile_name="Aline"))
    (request,) = h.to(broker.V1, mark)
    assert h.conv(broker.V1).last_inbound == 0
    body = quiet(request, h.conv(broker.V1))
    assert name(body) == "broker_vendor_request"
    accept = payloads(body)[0]
    assert accept.startswith("broker:accept:")
    h.deliver(template_button(broker.V1, accept, "Accept"))
    assert isinstance(h.events[-1][1], BrokerAccepted)


def test_an_application_its_answer_and_an_expired_post_go_as_templates_when_quiet() -> None:
    h = jobs._h(lifetime_s=14 * DAY)
    job = jobs.post(h)
    jobs.find(h)
    h.pick(jobs.S, f"job:{job}")
    mark = len(h.sent)
    h.replies(jobs.named(c.button(jobs.S, f"jobs:apply:{job}"), "Alice"))
    (applied,) = h.to(jobs.P, mark)
    body = quiet(applied, h.conv(jobs.P))
    assert name(body) == "jobs_application"
    contact = payloads(body)[0]
    assert contact == f"jobapp:contact:{job}:{jobs.S}"
    mark = len(h.sent)
    h.deliver(template_button(jobs.P, contact, "Contact"))
    assert h.events[-1] == (jobs.P, ApplicantContacted(job_id=job, poster=jobs.P,
                                                       applicant=jobs.S))
    (answer,) = h.to(jobs.S, mark)
    assert name(quiet(answer, h.conv(jobs.S))) == "jobs_application_answer"
    mark = len(h.sent)
    h.advance(15 * DAY)
    assert isinstance(h.events[-1][1], JobExpired)
    (expired,) = h.to(jobs.P, mark)
    assert name(quiet(expired, h.conv(jobs.P))) == "jobs_post_expired"


def test_an_inquiry_its_answer_a_renewal_and_an_expiry_go_as_templates_when_quiet() -> None:
    h = rentals._h()
    lid = rentals.list_one(h)
    rentals.search(h)
    h.pick(rentals.S, f"rent:{lid}")
    mark = len(h.sent)
    h.replies(dataclasses.replace(c.button(rentals.S, f"rentals:contact:{lid}"),
                                  profile_name="Grace"))
    (inquiry,) = h.to(rentals.OW, mark)
    body = quiet(inquiry, h.conv(rentals.OW))
    assert name(body) == "rentals_inquiry"
    mark = len(h.sent)
    h.deliver(template_button(rentals.OW, payloads(body)[0], "Contact"))
    assert h.events[-1] == (rentals.OW, RentalContacted(listing_id=lid, owner=rentals.OW,
                                                        seeker=rentals.S))
    (answer,) = h.to(rentals.S, mark)
    assert name(quiet(answer, h.conv(rentals.S))) == "rentals_inquiry_answer"

    mark = len(h.sent)
    h.advance(27 * DAY + 1)
    (renew,) = h.to(rentals.OW, mark)
    body = quiet(renew, h.conv(rentals.OW))
    assert name(body) == "rentals_renew"
    h.deliver(template_button(rentals.OW, payloads(body)[0], "Renew"))
    assert isinstance(h.events[-1][1], RentalRenewed)
    mark = len(h.sent)
    h.advance(31 * DAY)
    assert isinstance(h.events[-1][1], RentalExpired)
    expired = [b for b in h.to(rentals.OW, mark) if m.TEMPLATE in b]
    assert [name(quiet(b, h.conv(rentals.OW))) for b in expired] == [
        "rentals_renew", "rentals_listing_expired"]


def test_a_closed_request_and_a_drivers_offer_go_as_templates_when_quiet() -> None:
    h = Harness(options={"rides": RidesOptions(ride_timeout_s=300)})
    rides._online(h, rides.D, "moto", *rides.KIGALI)
    rides._search(h)
    mark = len(h.sent)
    h.pick(rides.P, f"driver:{rides.D}")
    h.advance(301)  # the driver did not answer: the request is closed on their side
    closed = [b for b in h.to(rides.D, mark) if m.TEMPLATE in b]
    assert [name(quiet(b, h.conv(rides.D))) for b in closed] == [
        "ride_request", "ride_request_closed"]

    h = Harness(options={"broker": BrokerOptions(request_timeout_s=60)})
    rides._search(h, "cab")  # a passenger waits; a cab driver sees them and offers
    rides._online(h, rides.D, "cab", *rides.KIGALI)
    mark = len(h.sent)
    h.pick(rides.D, f"passenger:{rides.P}")
    (offer,) = h.to(rides.P, mark)
    assert name(quiet(offer, h.conv(rides.P))) == "ride_offer"

    broker._vendors(h)
    h.say(broker.U, "hi")
    h.pick(broker.U, "menu:broker")
    h.say(broker.U, "plumber in Kicukiro")
    mark = len(h.sent)
    h.pick(broker.U, f"vendor:{broker.V2}")
    h.advance(61)  # the vendor did not answer
    told = [b for b in h.to(broker.V2, mark) if m.TEMPLATE in b]
    assert [name(quiet(b, h.conv(broker.V2))) for b in told] == [
        "broker_vendor_request", "broker_request_closed"]
