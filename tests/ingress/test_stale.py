"""Signed updates older than the dedupe window (``WASTREAM_DEDUPE_TTL_S``) are a replay
of a capture, or a retry past Meta's own 7 days: dropped before ``wa.inbound``, counted,
answered 200 (so that nobody sends them again), the body kept on ``wa.webhooks.raw``."""

from __future__ import annotations

import time

import orjson
from prometheus_client.parser import text_string_to_metric_families

from schemas import headers, topics
from schemas.envelope import InboundEvent
from tests.support.ingress import Ingress, running_ingress
from tests.support.webhooks import envelope

DAY = 86400


def _msg(wamid: str, ts: int) -> dict[str, str]:
    return {"from": "250788000001", "id": wamid, "timestamp": str(ts), "type": "text",
            "text": {"body": "hi"}}


def _status(wamid: str, ts: int) -> dict[str, str]:
    return {"id": wamid, "status": "read", "timestamp": str(ts), "recipient_id": "250788000001"}


async def _stale_counts(ing: Ingress) -> dict[str, float]:
    async with ing.health.get("/metrics") as r:
        text = await r.text()
    return {s.labels["family"]: s.value
            for f in text_string_to_metric_families(text)
            if f.name == "wastream_ingress_stale_updates"
            for s in f.samples if s.name.endswith("_total")}


async def test_updates_older_than_the_dedupe_window_are_dropped_counted_and_kept_raw(
        dev_stack: dict[str, str]) -> None:
    now = int(time.time())
    old = now - 8 * DAY  # the default window is 7 days
    body = orjson.dumps(envelope(
        [_msg("wamid.FRESH", now - 60), _msg("wamid.REPLAY", old)],
        statuses=[_status("wamid.OUT1", old), _status("wamid.OUT2", now)]))
    async with running_ingress(dev_stack["bootstrap"]) as ing:
        status, answer = await ing.post(body)
        assert status == 200
        assert (answer["events"], answer["stale_dropped"]) == (2, 2)
        inbound = await ing.read(topics.INBOUND, min_count=2, settle_s=1.0)
        ids = sorted(InboundEvent.from_bytes(r.value or b"").event_id or "" for r in inbound)
        assert len(ids) == 2
        assert "wamid.REPLAY" not in ids
        assert "wamid.FRESH" in ids
        [raw] = await ing.read(topics.RAW, min_count=1)
        assert raw.value == body  # the record keeps the whole body
        assert raw.headers[headers.STALE_UPDATES] == b"2"
        assert await _stale_counts(ing) == {"message": 1.0, "status": 1.0}


async def test_a_body_of_only_stale_updates_is_answered_200_and_kept_raw(
        dev_stack: dict[str, str]) -> None:
    """The window is the worker's setting: 60 s here, so a 2-minute-old update is stale."""
    body = orjson.dumps(envelope([_msg("wamid.OLD", int(time.time()) - 120)]))
    async with running_ingress(dev_stack["bootstrap"], WASTREAM_DEDUPE_TTL_S="60") as ing:
        status, answer = await ing.post(body)
        assert (status, answer["events"], answer["stale_dropped"]) == (200, 0, 1)
        [raw] = await ing.read(topics.RAW, min_count=1)
        assert raw.value == body
        assert await ing.read(topics.INBOUND, min_count=0, settle_s=1.0) == []
        assert await _stale_counts(ing) == {"message": 1.0}


async def test_updates_inside_the_window_are_not_counted(dev_stack: dict[str, str]) -> None:
    body = orjson.dumps(envelope([_msg("wamid.NEW", int(time.time()) - 6 * DAY)]))
    async with running_ingress(dev_stack["bootstrap"]) as ing:
        status, answer = await ing.post(body)
        assert (status, answer["events"]) == (200, 1)
        assert "stale_dropped" not in answer
        assert len(await ing.read(topics.INBOUND, min_count=1)) == 1
        [raw] = await ing.read(topics.RAW, min_count=1)
        assert headers.STALE_UPDATES not in raw.headers
        assert await _stale_counts(ing) == {}
