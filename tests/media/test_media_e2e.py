"""Inbound media end to end: signed webhooks → the real ingress → broker → the real
``wastream worker`` (media tap and agent) → the stand-in Graph API's media endpoints →
the store, ``wa.media`` and the ``media`` table (the real projector), then a replay."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

from schemas import topics
from standins.graph import GraphStub
from tests.support.system import APP_SECRET, System
from wastream.driver import ConversationDriver

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # 10 KB that says it is a JPEG
A, B, C, D = "250788700001", "250788700002", "250788700003", "250788700004"
ROWS = "SELECT media_id, wa_id, kind, status, mime_type, sha256, size, store_key FROM media"


def image(media_id: str, data: bytes) -> dict[str, object]:
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()  # as Meta's webhook gives it
    return {"type": "image", "image": {"id": media_id, "mime_type": "image/jpeg",
                                       "sha256": sha, "caption": "my room"}}


async def send(system: System, wa_id: str, message: dict[str, object]) -> None:
    user = ConversationDriver(system.webhook_url, APP_SECRET, system.bootstrap,
                              system.topic(topics.OUTBOUND), wa_id)
    await user.start()
    try:
        await user.post(message)
    finally:
        await user.stop()


async def status_of(system: System, media_id: str, timeout_s: float = 90) -> dict[str, object]:
    rows = await system.wait_rows(ROWS + " WHERE media_id = $1", 1, timeout_s, media_id)
    assert rows, f"no media row for {media_id}:\n" + "\n".join(
        s.tail(30) for s in system.services)
    return dict(rows[0])


async def test_inbound_media_is_downloaded_checked_stored_and_projected(
        system: System, tmp_path: Path) -> None:
    stub = await GraphStub().start()
    store = tmp_path / "media"
    system.env_overrides.update({
        "WHATSAPP_GRAPH_URL": stub.url, "WHATSAPP_ACCESS_TOKEN": stub.token,
        "WASTREAM_MEDIA_DIR": str(store), "WASTREAM_SENDER_RECIPIENT_RATE": "1000"})
    try:
        stub.media.put("9001", JPEG, "image/jpeg")
        stub.media.put("9002", None, "image/jpeg", size=50 * 1024 * 1024)  # declared only
        stub.media.put("9003", JPEG[::-1], "image/jpeg")
        stub.media.put("9004", JPEG + b"tampered", "image/jpeg")
        system.start_ingress()
        system.start_worker()
        system.start_projector()

        # A failed download retries through the tiers (1 s here) and then succeeds.
        stub.media.fail_downloads(1)
        await send(system, C, image("9003", JPEG[::-1]))
        row = await status_of(system, "9003")
        assert row["status"] == "stored"
        assert stub.media.info_requests == 2  # the retry asked for a fresh URL
        retried = await system.read(topics.retry_topic(1), min_count=1, timeout_s=10)
        assert [r.key for r in retried] == [C.encode()]

        await send(system, A, image("9001", JPEG))
        await send(system, B, image("9002", b"fifty megabytes"))
        await send(system, D, image("9004", JPEG))  # the bytes are not what was announced

        row = await status_of(system, "9001")
        key = hashlib.sha256(JPEG).hexdigest()
        assert row == {"media_id": "9001", "wa_id": A, "kind": "image", "status": "stored",
                       "mime_type": "image/jpeg", "sha256": key, "size": len(JPEG),
                       "store_key": key}
        assert (store / key[:2] / key).read_bytes() == JPEG
        big = await status_of(system, "9002")
        assert (big["status"], big["size"], big["store_key"]) == (
            "too_large", 50 * 1024 * 1024, None)
        bad = await status_of(system, "9004")
        assert (bad["status"], bad["store_key"]) == ("mismatch", None)
        assert stub.media.downloads == 3  # 9003, 9001, 9004: never the 50 MB one
        assert sorted(p.name for p in store.rglob("*") if p.is_file()) == sorted(
            [key, key + ".type", hashlib.sha256(JPEG[::-1]).hexdigest(),
             hashlib.sha256(JPEG[::-1]).hexdigest() + ".type"])

        outcomes = await system.read(topics.MEDIA, min_count=4, timeout_s=10, settle_s=1)
        assert sorted(r.json()["status"] for r in outcomes) == [
            "mismatch", "stored", "stored", "too_large"]
        assert await system.read(topics.DLQ, min_count=0, timeout_s=5, settle_s=1) == []

        # The read model is rebuilt from wa.media with the same rows.
        before = sorted(map(tuple, await system.wait_rows(ROWS, 4)))
        await asyncio.to_thread(system.cli, "replay", "--projection", "media",
                                "--from-beginning")
        assert sorted(map(tuple, await system.wait_rows(ROWS, 4))) == before
    finally:
        await stub.stop()


async def test_a_media_id_that_is_gone_dead_letters_and_is_recorded_failed(
        system: System, tmp_path: Path) -> None:
    stub = await GraphStub().start()
    system.env_overrides.update({
        "WHATSAPP_GRAPH_URL": stub.url, "WHATSAPP_ACCESS_TOKEN": stub.token,
        "WASTREAM_MEDIA_DIR": str(tmp_path / "media")})
    try:
        system.start_ingress()
        system.start_worker()
        system.start_projector()
        await send(system, A, image("4040", JPEG))  # the stand-in never heard of it
        row = await status_of(system, "4040")
        assert row["status"] == "failed"
        dlq = await system.read(topics.DLQ, min_count=1, timeout_s=30)
        assert dlq[0].headers["wastream.error_class"] == (
            b"streams.failure.errors.GraphInvalidParameter")
        assert dlq[0].headers["wastream.original_topic"] == system.topic(
            topics.MEDIA_JOBS).encode()
    finally:
        await stub.stop()
