"""The jobs domain through the pure engine (harness): post, find, apply, contact or
decline, my jobs, expiry, and every bad-input path."""

from __future__ import annotations

import dataclasses
from typing import Any

from schemas.envelope import InboundEvent
from streams.domains.jobs.events import (
    ApplicantContacted,
    ApplicantDeclined,
    JobApplied,
    JobClosed,
    JobExpired,
    JobPosted,
)
from streams.domains.jobs.index import JobsIndex
from streams.domains.jobs.options import JobsOptions
from streams.engine.model import Options
from tests.support import conversations as c
from tests.support.engine_harness import Harness

P, S, S2 = "250788200001", "250788200002", "250788200003"  # poster, seekers
KIGALI = (-1.9441, 30.0619)
FAR = (-1.4941, 30.0619)  # 50 km north of KIGALI
DAY = 86400.0


def _h(**kw: float) -> Harness:
    return Harness(opts=Options(idle_s=10 * DAY), options={"jobs": JobsOptions(**kw)})


def named(ev: InboundEvent, name: str) -> InboundEvent:
    """The event as Meta sends it: with the sender's WhatsApp profile name."""
    return dataclasses.replace(ev, profile_name=name)


MAIN_MENU = "Hello! What would you like to do?"


def texts(bodies: list[dict[str, Any]]) -> list[str]:
    return [c.body_text(b) for b in bodies]


def said(bodies: list[dict[str, Any]]) -> list[str]:
    """The texts of ``bodies`` that end on the main menu, without the menu."""
    got = texts(bodies)
    assert got[-1] == MAIN_MENU
    return got[:-1]


def post(h: Harness, who: str = P, title: str = "Cook at a restaurant",
         at: tuple[float, float] = KIGALI, description: str | None = None) -> str:
    h.say(who, "hi")
    h.pick(who, "menu:jobs")
    h.tap(who, "jobs:post")
    h.say(who, title)
    h.say(who, "5000 per day")
    h.share(who, *at)
    if description is None:
        h.tap(who, "jobs:skip")
    else:
        h.say(who, description)
    h.tap(who, "jobs:post")
    return next(e.job_id for w, e in reversed(h.events) if isinstance(e, JobPosted))


def find(h: Harness, who: str = S, at: tuple[float, float] = KIGALI) -> list[dict[str, Any]]:
    h.say(who, "hi")
    h.pick(who, "menu:jobs")
    h.tap(who, "jobs:find")
    return h.share(who, *at)


def test_post_a_job_asks_in_order_and_stores_nothing_before_confirmation() -> None:
    h = _h()
    h.say(P, "hi")
    home = h.pick(P, "menu:jobs")
    assert c.row_ids(home[0]) == ["jobs:post", "jobs:find", "jobs:mine"]
    assert "short title" in texts(h.tap(P, "jobs:post"))[0]
    assert "What does it pay?" in texts(h.say(P, "Cook at a restaurant"))[0]
    assert "Where is the job?" in texts(h.say(P, "150k/month"))[0]
    assert c.row_ids(h.say(P, "Kicukiro")[0]) == ["jobs:skip"]
    confirm = h.say(P, "Evenings, must know Rwandan dishes")[0]
    assert c.row_ids(confirm) == ["jobs:post", "jobs:cancel"]
    assert "Cook at a restaurant\nPay: 150k/month\nWhere: Kicukiro" in c.body_text(confirm)
    assert h.events == []
    done = h.tap(P, "jobs:post")
    assert "posted" in c.body_text(done[0])
    (who, ev), = h.events
    assert who == P
    assert isinstance(ev, JobPosted)
    assert (ev.title, ev.pay, ev.pay_amount, ev.pay_period, ev.place) == (
        "Cook at a restaurant", "150k/month", 150_000, "month", "Kicukiro")
    assert ev.description == "Evenings, must know Rwandan dishes"
    assert ev.expires_at - ev.posted_at == 14 * DAY
    assert h.conv(P).deadlines[f"job_expire:{ev.job_id}"] == ev.expires_at
    assert h.conv(P).flow == "menu"


def test_cancel_posts_nothing() -> None:
    h = _h()
    h.say(P, "hi")
    h.pick(P, "menu:jobs")
    h.tap(P, "jobs:post")
    h.say(P, "Guard")
    h.say(P, "3000 a day")
    h.share(P, *KIGALI)
    h.tap(P, "jobs:skip")
    assert texts(h.tap(P, "jobs:cancel"))[0] == "Nothing was posted."
    assert h.events == []
    assert h.conv(P).deadlines.keys() <= {"idle"}


def test_bad_inputs_are_asked_again_with_what_is_expected() -> None:
    h = _h()
    h.say(P, "hi")
    h.pick(P, "menu:jobs")
    assert texts(h.say(P, "maybe"))[0] == "Sorry, I did not understand."  # home
    h.tap(P, "jobs:post")
    again = texts(h.say(P, "ab"))  # title too short
    assert again[0] == "Sorry, I did not understand."
    assert "short title" in again[1]
    assert "short title" in texts(h.say(P, "x" * 61))[1]  # too long
    h.say(P, "Builder")
    again = texts(h.say(P, "a good salary"))  # no amount
    assert "e.g. 5000 per day" in again[1]
    assert h.conv(P).step == "pay"
    h.say(P, "10k/week")
    assert "Share its location" in texts(h.say(P, "somewhere nice"))[1]  # no place
    assert "Share its location" in texts(h.share(P, 48.85, 2.35))[1]  # Paris: outside
    assert "Share its location" in texts(h.share(P, 0.0, 0.0))[1]
    h.share(P, *KIGALI)
    assert h.replies(c.location(P, *KIGALI))[0]["text"]["body"] == (
        "Sorry, I did not understand.")  # a location is not a description
    assert "description" in texts(h.say(P, "x" * 501))[1]
    h.tap(P, "jobs:skip")
    assert c.row_ids(h.say(P, "yes please")[1]) == ["jobs:post", "jobs:cancel"]
    assert h.events == []
    h.say(P, "what")
    miss3 = h.say(P, "what")
    assert c.row_ids(miss3[-1]) == ["menu"]  # the third miss offers the menu


def test_find_lists_nearest_first_then_newest_and_excludes_far_and_own() -> None:
    h = _h()
    post(h, P, "Near old", at=(-1.9441, 30.0700))
    h.now += 60
    post(h, S2, "Near new", at=(-1.9441, 30.0700))
    post(h, S2, "Nearest", at=KIGALI)
    post(h, S2, "Far away", at=FAR)
    listed = find(h, S)
    rows = listed[0]["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["Nearest", "Near new", "Near old"]
    assert rows[0]["description"] == "5000 per day · 0.0 km"
    assert rows[1]["description"] == "5000 per day · 0.9 km"
    own = find(h, S2)  # the poster does not see their own posts
    assert [r["title"] for r in own[0]["interactive"]["action"]["sections"][0]["rows"]] == [
        "Near old"]


def test_a_seeker_50_km_away_does_not_see_it() -> None:
    h = _h()
    post(h)
    assert said(find(h, S, at=FAR)) == [
        "No open jobs within 25 km right now. Try again later."]
    assert h.conv(S).flow == "menu"


def test_up_to_ten_rows_within_whatsapp_limits() -> None:
    h = _h()
    for i in range(12):
        post(h, f"2507883000{i:02d}", f"A very long job title number {i}")
    rows = find(h)[0]["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 10
    assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)


def test_apply_notifies_the_poster_with_the_name_and_contact_links_both() -> None:
    h = _h()
    job = post(h, description="Evenings")
    listed = find(h)
    assert c.row_ids(listed[0]) == [f"job:{job}"]
    detail = h.pick(S, f"job:{job}")[0]
    assert c.row_ids(detail) == [f"jobs:apply:{job}"]
    assert c.body_text(detail) == (
        "Cook at a restaurant\nPay: 5000 per day\nDistance: 0.0 km\n\nEvenings")
    mark = len(h.sent)
    assert said(h.replies(named(c.button(S, f"jobs:apply:{job}"), "Alice"))) == [
        "You applied to Cook at a restaurant. The employer will answer here."]
    to_poster = h.to(P, mark)
    assert texts(to_poster) == ["Alice applied to your job Cook at a restaurant."]
    assert c.row_ids(to_poster[0]) == [f"jobapp:contact:{job}:{S}", f"jobapp:decline:{job}:{S}"]
    assert h.events[-1] == (S, JobApplied(job_id=job, poster=P, applicant=S, name="Alice"))
    mark = len(h.sent)
    assert texts(h.tap(P, f"jobapp:contact:{job}:{S}")) == [
        f"Contact Alice on WhatsApp: https://wa.me/{S}"]
    assert texts(h.to(S, mark)) == [
        f"The employer for Cook at a restaurant wants to talk to you: https://wa.me/{P}"]
    assert h.events[-1] == (P, ApplicantContacted(job_id=job, poster=P, applicant=S))
    # a second tap changes nothing
    assert texts(h.tap(P, f"jobapp:contact:{job}:{S}")) == [
        "This application is no longer open."]
    assert isinstance(h.events[-1][1], ApplicantContacted)
    assert len(h.events) == 3


def test_applying_twice_changes_nothing() -> None:
    h = _h()
    job = post(h)
    find(h)
    h.pick(S, f"job:{job}")
    h.tap(S, f"jobs:apply:{job}")
    n_events, mark = len(h.events), len(h.sent)
    find(h)
    h.pick(S, f"job:{job}")
    assert said(h.tap(S, f"jobs:apply:{job}")) == [
        "You already applied to Cook at a restaurant."]
    assert len(h.events) == n_events
    assert h.to(P, mark) == []
    # even if the applicant's record were lost, the poster is told once
    h.deliver(InboundEvent(event_id="again", type="wastream.jobs.applied", wa_id=P,
                           phone_number_id=None, timestamp=None, received_at="",
                           correlation_id="", field="wastream",
                           payload={"job_id": job, "title": "x", "applicant": S,
                                    "name": "Alice"}))
    assert h.to(P, mark) == []


def test_decline_tells_the_applicant() -> None:
    h = _h()
    job = post(h)
    find(h)
    h.pick(S, f"job:{job}")
    h.tap(S, f"jobs:apply:{job}")  # no profile name: the number stands in
    assert f"+{S} applied" in c.body_text(h.to(P)[-1])
    mark = len(h.sent)
    assert texts(h.tap(P, f"jobapp:decline:{job}:{S}")) == [f"You declined +{S}."]
    assert texts(h.to(S, mark)) == [
        "Your application to Cook at a restaurant was not taken further."]
    assert h.events[-1] == (P, ApplicantDeclined(job_id=job, poster=P, applicant=S))
    assert texts(h.tap(P, "jobapp:what")) == ["This application is no longer open."]


def test_my_jobs_counts_applicants_and_closes_one() -> None:
    h = _h()
    job = post(h)
    for s in (S, S2):
        find(h, s)
        h.pick(s, f"job:{job}")
        h.tap(s, f"jobs:apply:{job}")
    h.say(P, "menu")
    h.pick(P, "menu:jobs")
    mine = h.tap(P, "jobs:mine")[0]
    rows = mine["interactive"]["action"]["sections"][0]["rows"]
    assert [(r["id"], r["title"], r["description"]) for r in rows] == [
        (f"myjob:{job}", "Cook at a restaurant", "2 applicants · 14 days left")]
    manage = h.pick(P, f"myjob:{job}")[0]
    assert c.body_text(manage) == "Cook at a restaurant: 2 applicants. Close this post?"
    closed = h.tap(P, "jobs:close")
    assert texts(closed)[0] == "Cook at a restaurant is closed and no longer shown."
    assert "menu:jobs" in c.row_ids(closed[1])  # then the main menu
    assert h.events[-1] == (P, JobClosed(job_id=job))
    assert h.model("jobs", JobsIndex).get(job).status == "closed"  # type: ignore[union-attr]
    assert said(find(h, S2)) == ["No open jobs within 25 km right now. Try again later."]
    h.pick(P, "menu:jobs")
    assert said(h.tap(P, "jobs:mine")) == ["You have no open job posts."]
    assert f"job_expire:{job}" not in h.conv(P).deadlines
    # an application arriving after the close: the applicant is told it is closed
    mark = len(h.sent)
    h.deliver(InboundEvent(event_id="late", type="wastream.jobs.applied", wa_id=P,
                           phone_number_id=None, timestamp=None, received_at="",
                           correlation_id="", field="wastream",
                           payload={"job_id": job, "title": "Cook at a restaurant",
                                    "applicant": "250788200009", "name": "Late"}))
    assert h.to(P, mark) == []
    assert texts(h.to("250788200009", mark)) == [
        "The job Cook at a restaurant is no longer open."]


def test_a_post_expires_after_its_lifetime_from_the_posters_conversation() -> None:
    h = _h(lifetime_s=3600)
    job = post(h)
    h.advance(3599)
    assert len(find(h)[0]["interactive"]["action"]["sections"][0]["rows"]) == 1
    h.say(S, "menu")
    mark = len(h.sent)
    h.advance(2)
    assert texts(h.to(P, mark)) == [
        "Your job post Cook at a restaurant has expired and is no longer shown."]
    assert h.events[-1] == (P, JobExpired(job_id=job))
    assert said(find(h)) == ["No open jobs within 25 km right now. Try again later."]


def test_a_job_that_closed_while_the_seeker_looked_is_not_applied_to() -> None:
    h = _h()
    job = post(h)
    find(h)
    h.pick(S, f"job:{job}")
    h.say(P, "menu")
    h.pick(P, "menu:jobs")
    h.tap(P, "jobs:mine")
    h.pick(P, f"myjob:{job}")
    h.tap(P, "jobs:close")
    n = len(h.events)
    assert said(h.tap(S, f"jobs:apply:{job}")) == ["This job is no longer open."]
    assert len(h.events) == n


def test_reuse_the_last_location_and_typed_places() -> None:
    h = _h()
    job = post(h)
    find(h, S, at=KIGALI)
    h.say(S, "menu")
    h.pick(S, "menu:jobs")
    asks = h.tap(S, "jobs:find")
    assert c.row_ids(asks[1]) == ["jobs:last"]
    assert c.row_ids(h.tap(S, "jobs:last")[0]) == [f"job:{job}"]
    h.say(S, "menu")
    h.pick(S, "menu:jobs")
    h.tap(S, "jobs:find")
    assert c.row_ids(h.say(S, "I am in Nyarugenge")[0]) == [f"job:{job}"]
    # a seeker who never searched is not offered the last location
    h.say(S2, "hi")
    h.pick(S2, "menu:jobs")
    assert len(h.tap(S2, "jobs:find")) == 1
    assert "Share your location" in texts(h.tap(S2, "jobs:last"))[1]


def test_texts_in_french_and_kinyarwanda() -> None:
    for lang, ask in (("fr", "Quel est le salaire ?"), ("rw", "Gahemba angahe?")):
        h = _h()
        h.say(P, "hi")
        h.pick(P, "menu:language")
        h.tap(P, f"lang:{lang}")
        h.pick(P, "menu:jobs")
        h.tap(P, "jobs:post")
        assert ask in texts(h.say(P, "Umuzamu"))[0]


def test_texts_fit_whatsapp_limits_without_truncation() -> None:
    from streams.domains.jobs.catalog import TEXTS
    from streams.engine import messages as m

    for lang in ("en", "fr", "rw"):
        keys = TEXTS.messages[lang]
        for key in keys:
            if key.startswith("button.") or key in ("find.button", "mine.button"):
                assert len(TEXTS.text(lang, key)) <= m.MAX_BUTTON_TITLE, (lang, key)
        assert len(TEXTS.text(lang, "menu.jobs")) <= m.MAX_ROW_TITLE
        assert len(TEXTS.text(lang, "find.row", pay="p" * 50, km="999.9")) <= m.MAX_ROW_DESC
        assert len(TEXTS.text(lang, "mine.row", count=999, days=14)) <= m.MAX_ROW_DESC
