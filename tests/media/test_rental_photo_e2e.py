"""A rental photo from an owner's upload to a seeker's details message, end to end:
signed webhooks → the real ingress → broker → the real worker (conversation, media
tap and agent, sender) and projector → the stand-in Graph API.

The owner's image is downloaded into the store beside the conversation; the listing
keeps its key (the sha256 the webhook stated); the seeker's details send it as an
image (uploaded once, then a message with Meta's id and a caption) before the details
text. A second listing whose photo never reaches the store is shown without it, and
its details still go. Run with the local store and with an S3 bucket (a local S3 server)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from schemas import topics
from schemas.delivery import DeliveryUpdate
from standins.graph import GraphStub, Seen
from tests.domains.test_parrot_e2e import said, users
from tests.media.test_media_e2e import image, status_of
from tests.support.s3 import ACCESS_KEY, REGION, SECRET, s3_server
from tests.support.system import System
from wastream.driver import ConversationDriver, options

OWNER, OWNER2, SEEKER = "250788710001", "250788710002", "250788710003"
KIGALI = (-1.9441, 30.0619)
PHOTO = b"\xff\xd8\xff\xe0" + b"a sunny two-bedroom flat" * 200
KEY = hashlib.sha256(PHOTO).hexdigest()


async def list_place(o: ConversationDriver, kind: str, beds: str, photo: dict[str, object],
                     wrong_first: bool = False) -> None:
    await o.text("hi")
    await said(o, timeout_s=60)
    await o.pick("menu:rentals")
    await said(o)
    await o.tap("rentals:list")
    await said(o)
    await o.pick(f"rtype:{kind}")
    await said(o)
    await o.text(beds)
    await said(o)
    await o.text("300k")
    await said(o)
    await o.location(*KIGALI)
    assert (await said(o))[0].startswith("Send one photo of the place")
    if wrong_first:  # not a photo: asked again
        await o.text("it is nice")
        assert (await said(o, 2))[1].startswith("Send one photo of the place")
    await o.post({"type": "image", **photo})
    assert "(with a photo)" in (await said(o))[0]
    await o.tap("rentals:post")
    assert (await said(o, 2))[0].startswith("Your place is listed for")


async def open_details(s: ConversationDriver, title: str,
                       asks: int = 1) -> list[dict[str, object]]:
    """Search near Kigali and open the listing whose row is ``title``; the bodies the
    conversation wrote for the details (on wa.outbound). ``asks``: 2 once the seeker
    has searched (the location request, and "use the last one")."""
    await s.text("menu")
    await said(s, timeout_s=60)
    await s.pick("menu:rentals")
    await said(s)
    await s.tap("rentals:find")
    await said(s, asks)
    await s.location(*KIGALI)
    await said(s)
    await s.text("400k")
    await said(s)
    await s.tap("rentals:any")
    found = await s.replies(min_count=1, timeout_s=30)
    row = next(r for r, t, _ in options(found[0].body) if t == title)
    await s.pick(row)
    return [r.body for r in await s.replies(min_count=2, timeout_s=30)]


def _text(seen: Seen) -> str:
    inter = seen.body.get("interactive") or {}
    return str((inter.get("body") or {}).get("text", ""))


async def before_details(stub: GraphStub, details: str, timeout_s: float = 30) -> list[Seen]:
    """What the stand-in accepted for the seeker: the message just before the details
    that start with ``details`` (waited for), and those details."""
    until = time.monotonic() + timeout_s
    while True:
        got = [s for s in stub.accepted if s.body.get("to") == SEEKER]
        at = next((i for i, s in enumerate(got) if _text(s).startswith(details)), None)
        if at is not None:
            return got[at - 1:at + 1]
        assert time.monotonic() < until, f"no details {details!r}: {[_text(s) for s in got]}"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("backend", ["local", "s3"])
async def test_a_rental_photo_goes_from_the_owner_upload_to_the_seeker_details(
        system: System, tmp_path: Path, backend: str) -> None:
    stub = await GraphStub().start()
    s3 = ExitStack()
    system.env_overrides.update({
        "WHATSAPP_GRAPH_URL": stub.url, "WHATSAPP_ACCESS_TOKEN": stub.token,
        "WASTREAM_MEDIA_DIR": str(tmp_path / "media"),
        "WASTREAM_SENDER_RECIPIENT_RATE": "1000"})
    if backend == "s3":  # the worker's media agent and sender use a bucket instead
        server = s3.enter_context(s3_server())
        bucket = server.bucket()
        system.env_overrides.update({
            "WASTREAM_MEDIA_STORE": "s3", "WASTREAM_MEDIA_S3_BUCKET": bucket,
            "WASTREAM_MEDIA_S3_ENDPOINT_URL": server.endpoint_url,
            "WASTREAM_MEDIA_S3_REGION": REGION, "WASTREAM_MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "WASTREAM_MEDIA_S3_SECRET_ACCESS_KEY": SECRET})
    try:
        stub.media.put("7001", PHOTO, "image/jpeg")
        system.start_ingress()
        worker = system.start_worker()
        system.start_projector()
        async with users(system, OWNER, OWNER2, SEEKER) as (o, o2, s):
            await list_place(o, "apartment", "2", image("7001", PHOTO), wrong_first=True)
            row = await status_of(system, "7001")
            assert (row["status"], row["store_key"]) == ("stored", KEY)
            local = tmp_path / "media" / KEY[:2] / KEY
            if backend == "s3":
                reader = server.store(bucket)
                assert await reader.get(KEY) == PHOTO
                await reader.close()
                assert not local.exists()
            else:
                assert local.read_bytes() == PHOTO
            # The photo of the second listing is unknown to Meta: never stored.
            await list_place(o2, "house", "3", image("7404", b"never downloaded"))
            assert (await status_of(system, "7404"))["status"] == "failed"

            shown = await open_details(s, "Apartment · 2 bd")
            assert shown[0]["type"] == "image", worker.tail()
            assert shown[0]["image"] == {"wastream_media": KEY, "caption": "Apartment · 2 bd",
                                         "wastream_if_stored": True}
            sent = await before_details(stub, "Apartment, 2 bedrooms")
            assert sent[0].body["type"] == "image", worker.tail()
            (upload_id, upload), = stub.media.uploads.items()
            assert hashlib.sha256(upload.data).hexdigest() == KEY
            assert sent[0].body["image"] == {"id": upload_id, "caption": "Apartment · 2 bd"}

            shown = await open_details(s, "House · 3 bd", asks=2)
            assert shown[0]["type"] == "image"  # asked for, but not in the store: skipped
            sent = await before_details(stub, "House, 3 bedrooms")
            assert sent[0].body["type"] == "interactive"  # the results list, no image
            assert "House · 3 bd" in [t for _, t, _ in options(sent[0].body)]
            assert len(stub.media.uploads) == 1

        skipped = [DeliveryUpdate.from_bytes(r.value or b"")
                   for r in await system.read(topics.DELIVERY, min_count=1, timeout_s=10,
                                              settle_s=1)]
        failed = [u for u in skipped if u.status == "failed"]
        assert [(u.wa_id, (u.error or {}).get("class")) for u in failed] == [
            (SEEKER, "MediaNotStored")]
        dead = await system.read(topics.DLQ, min_count=1, timeout_s=10, settle_s=1)
        assert [r.headers["wastream.original_topic"] for r in dead] == [
            system.topic(topics.MEDIA_JOBS).encode()]  # the unknown media id only
        listings = await system.wait_rows(
            "SELECT kind, photo, photo_key FROM rental_listings ORDER BY kind", 2)
        assert [tuple(r) for r in listings] == [
            ("apartment", "7001", KEY),
            ("house", "7404", hashlib.sha256(b"never downloaded").hexdigest())]
    finally:
        await stub.stop()
        s3.close()
