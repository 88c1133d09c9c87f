"""Stored media in replies: the sender uploads once, caches the id, and uploads again
when Meta says the id is gone (the real Sender and media client against the stand-in
Graph API over HTTP; no broker)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from schemas.outbound import OutboundMessage
from standins.graph import GraphStub
from streams.delivery.graph import GraphClient
from streams.delivery.ledger import MemoryLedger
from streams.delivery.pacing import Pacer
from streams.delivery.sender import Sender
from streams.failure.records import Origin
from streams.media.graph import MediaClient
from streams.media.outbound import MemoryCache, Uploads
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
