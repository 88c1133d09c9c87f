"""Stored media in replies: the sender uploads once, caches the id, and uploads again
when Meta says the id is gone (the real Sender and media client against the stand-in
Graph API over HTTP; no broker)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import pytest

from schemas.delivery import DeliveryUpdate
from schemas.outbound import OutboundMessage
from standins.graph import GraphStub
from streams.delivery.graph import GraphClient
from streams.delivery.ledger import MemoryLedger
from streams.delivery.pacing import Pacer
from streams.delivery.sender import Sender
from streams.engine import messages as m
from streams.failure.records import Origin
from streams.media.graph import MediaClient
from streams.media.outbound import MediaMissing, MemoryCache, Uploads
from streams.media.store import LocalStore
from wastream.config import Settings

PNID = "106540352242922"
JPEG = b"\xff\xd8\xff\xe0 a photo of a flat"

AT = Origin("wa.outbound", 0, 0)  # where the record was read (the sender ignores it)


class Sink:
    def __init__(self) -> None:
        self.sent: list[bytes | None] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Mapping[str, bytes], partition: int | None = None) -> None:
        self.sent.append(value)


def photo(n: int, key: str) -> OutboundMessage:
    return OutboundMessage(outbound_id=f"out.{n}", wa_id="250788000001", phone_number_id=PNID,
                           body={"messaging_product": "whatsapp", "to": "250788000001",
                                 "type": "image",
                                 "image": {"wastream_media": key, "caption": "the flat"}})


async def test_stored_image_is_uploaded_once_and_again_when_meta_forgot_it(
        tmp_path: Path) -> None:
    stub = await GraphStub().start()
    settings = Settings.from_env({"WASTREAM_SENDER_RECIPIENT_RATE": "1000"})
    store = LocalStore(tmp_path)
    key = await store.put(JPEG, "image/jpeg")
    uploads = Uploads(MediaClient(stub.url, "v21.0", stub.token, 5), store, MemoryCache())
    sender = Sender(settings, GraphClient(stub.url, "v21.0", stub.token), MemoryLedger(),
                    Pacer.from_settings(settings.sender), Sink(), uploads=uploads)
    try:
        for n in range(2):
            await sender.process(b"250788000001", photo(n, key).to_bytes(), {}, AT)
        assert uploads.uploaded == 1
        assert [u.data for u in stub.media.uploads.values()] == [JPEG]
        first = next(iter(stub.media.uploads))
        sent = [s.body["image"] for s in stub.accepted]
        assert sent == [{"caption": "the flat", "id": first}] * 2

        stub.media.forget()  # Meta dropped the upload: the next send gets 131053
        await sender.process(b"250788000001", photo(2, key).to_bytes(), {}, AT)
        assert uploads.uploaded == 2
        assert [s.answer for s in stub.seen][-2:] == [400, 200]
        assert stub.accepted[-1].body["image"]["id"] != first
        assert stub.accepted[-1].body["image"]["id"] in stub.media.uploads
    finally:
        await sender.client.close()
        await uploads.client.close()  # type: ignore[union-attr]
        await stub.stop()


async def test_an_optional_photo_not_in_the_store_is_skipped_not_dead_lettered(
        tmp_path: Path) -> None:
    """A rental's photo whose download is not stored (yet): that message is skipped and
    recorded failed (MediaNotStored), nothing raised, nothing POSTed; once stored, the
    same reference is sent. Without the marker, a missing object stays a permanent error."""
    stub = await GraphStub().start()
    settings = Settings.from_env({"WASTREAM_SENDER_RECIPIENT_RATE": "1000"})
    store = LocalStore(tmp_path)
    key = hashlib.sha256(JPEG).hexdigest()
    uploads = Uploads(MediaClient(stub.url, "v21.0", stub.token, 5), store, MemoryCache())
    sink = Sink()
    sender = Sender(settings, GraphClient(stub.url, "v21.0", stub.token), MemoryLedger(),
                    Pacer.from_settings(settings.sender), sink, uploads=uploads)

    def optional(n: int) -> OutboundMessage:
        body = m.stored_image_body("250788000001", key, "the flat", if_stored=True)
        return OutboundMessage(outbound_id=f"opt.{n}", wa_id="250788000001",
                               phone_number_id=PNID, body=body)
    try:
        await sender.process(b"250788000001", optional(0).to_bytes(), {}, AT)
        assert stub.accepted == []
        assert uploads.uploaded == 0
        skipped = DeliveryUpdate.from_bytes(sink.sent[-1] or b"")
        assert (skipped.outbound_id, skipped.status) == ("opt.0", "failed")
        assert (skipped.error or {}).get("class") == "MediaNotStored"

        with pytest.raises(MediaMissing):
            await sender.process(b"250788000001", photo(9, key).to_bytes(), {}, AT)

        assert await store.put(JPEG, "image/jpeg") == key
        await sender.process(b"250788000001", optional(1).to_bytes(), {}, AT)
        assert uploads.uploaded == 1
        assert [s.body["image"] for s in stub.accepted] == [
            {"caption": "the flat", "id": next(iter(stub.media.uploads))}]
    finally:
        await stub.stop()
