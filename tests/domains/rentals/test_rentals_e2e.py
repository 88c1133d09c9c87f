"""Rentals end to end through the real ingress, broker and worker: a place listed with
a photo by one user is found under a ceiling and not under a lower one, contacted by
another (both get the other's wa.me link); the owner is asked to renew before it
expires, renews, and later it expires (short timeouts)."""

from __future__ import annotations

import hashlib

from schemas import topics
from schemas.domain import DomainEvent
from tests.domains.test_parrot_e2e import said, users
from wastream.driver import options

OW, S = "250788620001", "250788620002"
KIGALI = (-1.9441, 30.0619)


async def _search(s, ceiling: str, asks: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    await s.text("menu")
    await said(s)
    await s.pick("menu:rentals")
    await said(s)
    await s.tap("rentals:find")
    await said(s, asks)  # the location request (and "use last location" once searched)
    await s.location(*KIGALI)
    await said(s)
    await s.text(ceiling)
    await said(s)
    await s.tap("rentals:any")
    return await said(s)


async def test_a_rental_found_under_a_ceiling_contacted_renewed_and_expired(system) -> None:  # type: ignore[no-untyped-def]
    system.env_overrides.update({
        "WASTREAM_RENTALS_LIFETIME_S": "40",
        "WASTREAM_RENTALS_RENEW_BEFORE_S": "20",
        "WASTREAM_TIMER_TICK_S": "0.3",
    })
    system.start_ingress()
    worker = system.start_worker()
    async with users(system, OW, S) as (o, s):
        o.name, s.name = "Olive Owner", "Sam Seeker"
        await o.text("hi")
        assert await o.replies(min_count=1, timeout_s=60), worker.tail()
        await o.pick("menu:rentals")
        await said(o)
        await o.tap("rentals:list")
        await said(o)
        await o.pick("rtype:apartment")
        await said(o)
        await o.text("2")
        await said(o)
        await o.text("cheap")  # unreadable: asked again
        assert "e.g. 300k" in (await said(o, 2))[1]
        await o.text("300 000 RWF")
        await said(o)
        await o.location(*KIGALI)
        await said(o)
        await o.image("MEDIA-E2E", sha256=hashlib.sha256(b"MEDIA-E2E").digest())
        await said(o)
        await o.tap("rentals:post")
        assert (await said(o, 2))[0].startswith("Your place is listed for")

        assert (await _search(s, "299k"))[0] == (
            "No places within 25 km at 299,000 RWF or less right now.")
        await s.text("menu")
        await said(s)
        await s.pick("menu:rentals")
        await said(s)
        await s.tap("rentals:find")
        await said(s, 2)  # the location request, and "use last location"
        await s.tap("rentals:last")
        await said(s)
        await s.text("300k")
        await said(s)
        await s.tap("rentals:any")
        listed = await s.replies(min_count=1, timeout_s=30)
        rows = options(listed[0].body)
        assert [(t, d) for _, t, d in rows] == [
            ("Apartment · 2 bd", "300,000 RWF/month · 0.0 km")], worker.tail()
        await s.pick(rows[0][0])
        shown = await s.replies(min_count=2, timeout_s=30)
        assert shown[0].body["image"] == {  # the stored photo; the sender runs dry here
            "wastream_media": hashlib.sha256(b"MEDIA-E2E").hexdigest(),
            "caption": "Apartment · 2 bd", "wastream_if_stored": True}
        await s.tap(options(shown[1].body)[0][0])
        assert (await said(s, 2))[0] == "The owner has your request and will answer here."
        note = await o.replies(min_count=1, timeout_s=30)
        assert note[0].body["interactive"]["body"]["text"] == (
            "Sam Seeker is interested in your Apartment, 2 bedrooms.")
        await o.tap(options(note[0].body)[0][0])
        assert await said(o) == [f"Contact Sam Seeker on WhatsApp: https://wa.me/{S}"]
        assert await said(s) == [f"The owner wants to talk to you: https://wa.me/{OW}"]

        # Renewal asked RENEW_BEFORE_S before the end; renewed; then it expires.
        ask = await o.replies(min_count=1, timeout_s=40)
        assert "Renew it?" in ask[0].body["interactive"]["body"]["text"], worker.tail()
        await o.tap(options(ask[0].body)[0][0])
        assert (await said(o))[0].startswith("Apartment, 2 bedrooms is renewed for")
        ask = await o.replies(min_count=1, timeout_s=40)
        assert "Renew it?" in ask[0].body["interactive"]["body"]["text"]
        assert await said(o, 1, timeout_s=40) == [
            "Your listing Apartment, 2 bedrooms has expired and is no longer shown."]
        assert (await _search(s, "1m", asks=2))[0] == (
            "No places within 25 km at 1,000,000 RWF or less right now.")

    facts = [DomainEvent.from_bytes(r.value or b"")
             for r in await system.read(topics.DOMAIN, min_count=5)]
    # in order per user (the two users' facts may sit on different partitions)
    assert [f.name for f in facts if f.wa_id == OW] == [
        "RentalListed", "RentalContacted", "RentalRenewed", "RentalExpired"]
    assert [f.name for f in facts if f.wa_id == S] == ["RentalInquiry"]
    listed = next(f for f in facts if f.name == "RentalListed")
    assert listed.data["photo"] == "MEDIA-E2E"
    assert listed.data["price"] == 300_000
