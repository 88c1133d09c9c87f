"""Jobs end to end: signed webhooks → real ingress → real broker → the real
``wastream worker`` → replies read from ``wa.outbound``. A job posted by one user is
found, applied to and contacted by another; a seeker 50 km away does not see it; a
restarted worker rebuilds the index from ``wa.domain``; the post expires."""

from __future__ import annotations

from schemas import topics
from schemas.domain import DomainEvent
from tests.domains.test_parrot_e2e import said, users
from wastream.driver import options

P, S, FAR_S = "250788610001", "250788610002", "250788610003"
KIGALI = (-1.9441, 30.0619)
FAR = (-1.4941, 30.0619)  # 50 km north


async def test_a_job_posted_found_applied_to_and_contacted(system) -> None:  # type: ignore[no-untyped-def]
    system.env_overrides.update({
        "WASTREAM_JOBS_LIFETIME_S": "40",
        "WASTREAM_TIMER_TICK_S": "0.3",
    })
    system.start_ingress()
    worker = system.start_worker()
    async with users(system, P, S, FAR_S) as (p, s, far):
        p.name, s.name = "Paul Poster", "Sandra Seeker"
        await p.text("hi")
        menu = await p.replies(min_count=1, timeout_s=60)
        assert menu, worker.tail()
        assert "menu:jobs" in [o[0] for o in options(menu[0].body)]
        await p.pick("menu:jobs")
        await said(p)
        await p.tap("jobs:post")
        await said(p)
        await p.text("Cook at a restaurant")
        await said(p)
        await p.text("5000 per day")
        await said(p)
        await p.location(*KIGALI)
        await said(p)
        await p.tap("jobs:skip")
        await said(p)
        await p.tap("jobs:post")
        assert (await said(p, 2))[0].startswith("Your job is posted.")

        await s.text("hi")
        await said(s)
        await s.pick("menu:jobs")
        await said(s)
        await s.tap("jobs:find")
        await said(s)
        await s.location(-1.95, 30.06)
        listed = await s.replies(min_count=1, timeout_s=30)
        rows = options(listed[0].body)
        assert [(title, desc) for _, title, desc in rows] == [
            ("Cook at a restaurant", "5000 per day · 0.7 km")], worker.tail()
        await s.pick(rows[0][0])
        detail = await s.replies(min_count=1, timeout_s=30)
        (apply_id, _, _), = options(detail[0].body)
        await s.tap(apply_id)
        assert (await said(s, 2))[0] == (
            "You applied to Cook at a restaurant. The employer will answer here.")
        notice = await p.replies(min_count=1, timeout_s=30)
        assert "Sandra Seeker applied to your job Cook at a restaurant." in [
            x.body.get("interactive", {}).get("body", {}).get("text") for x in notice]
        contact_id = options(notice[-1].body)[0][0]
        await p.tap(contact_id)
        assert await said(p) == [f"Contact Sandra Seeker on WhatsApp: https://wa.me/{S}"]
        assert await said(s) == [
            f"The employer for Cook at a restaurant wants to talk to you: https://wa.me/{P}"]

        # 50 km away: nothing.
        await far.text("hi")
        await said(far)
        await far.pick("menu:jobs")
        await said(far)
        await far.tap("jobs:find")
        await said(far)
        await far.location(*FAR)
        assert (await said(far, 2))[0] == (
            "No open jobs within 25 km right now. Try again later.")

        # A restarted worker rebuilds the index from wa.domain: the job is still found.
        worker.stop()
        worker = system.start_worker()
        await far.text("hi")
        assert await far.replies(min_count=1, timeout_s=60), worker.tail()
        await far.pick("menu:jobs")
        await said(far)
        await far.tap("jobs:find")
        await said(far)
        await far.text("Nyarugenge")
        rows = options((await far.replies(min_count=1, timeout_s=30))[0].body)
        assert [title for _, title, _ in rows] == ["Cook at a restaurant"], worker.tail()

        # The post expires (WASTREAM_JOBS_LIFETIME_S=40) from the poster's conversation.
        assert "has expired" in (await said(p, 1, timeout_s=60))[0]

    facts = [DomainEvent.from_bytes(r.value or b"")
             for r in await system.read(topics.DOMAIN, min_count=4)]
    # in order per user (the two users' facts may sit on different partitions)
    assert [f.name for f in facts if f.wa_id == P] == [
        "JobPosted", "ApplicantContacted", "JobExpired"]
    assert [(f.name, f.data["name"]) for f in facts if f.wa_id == S] == [
        ("JobApplied", "Sandra Seeker")]
