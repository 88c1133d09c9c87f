"""503 while the broker is away, 200 only for what Kafka holds: a private broker is
started, stopped mid-run and restarted (the shared dev broker is never touched)."""

from __future__ import annotations

import asyncio
import time

import pytest

from schemas import topics
from schemas.envelope import InboundEvent
from tests.support.ingress import Ingress, running_ingress
from tests.support.webhooks import text_message_body
from wastream.admin import ensure_topics
from wastream.dev.kafka import KafkaNode

pytestmark = pytest.mark.slow


async def _status(ing: Ingress, path: str) -> int:
    async with ing.client.get(path) as r:
        return r.status


async def test_503_while_broker_away_and_no_200_that_is_not_stored(
        private_kafka: KafkaNode) -> None:
    node = private_kafka
    async with running_ingress(node.bootstrap, create_topics=False, wait_ready=False,
                               WASTREAM_INGRESS_PRODUCE_TIMEOUT_S="2",
                               # Records stuck in the producer expire during the outage,
                               # so a 200 given without an ack would really be lost.
                               WASTREAM_INGRESS_REQUEST_TIMEOUT_MS="3000") as ing:
        # 1. Kafka not there at all: the ingress is up, not ready, and refuses with 503.
        assert await _status(ing, "/healthz") == 200
        assert await _status(ing, "/readyz") == 503
        status, answer = await ing.post(text_message_body("250700000001", "early",
                                                          wamid="wamid.EARLY"))
        assert (status, answer["error"]["code"]) == (503, "broker_unavailable")

        # 2. Kafka comes up: ready, and posts are stored.
        await asyncio.to_thread(node.start)
        await ensure_topics(ing.settings)
        await ing.wait_ready(timeout_s=60)
        outcome: dict[str, int] = {}
        answers: list[object] = []
        n = 0

        async def post_one() -> None:
            nonlocal n
            n += 1
            wamid = f"wamid.O{n:05d}"
            status, ans = await ing.post(text_message_body(f"2507000{n % 5:05d}", f"m{n}",
                                                         wamid=wamid))
            answers.append(ans)
            outcome[wamid] = status

        for _ in range(20):
            await post_one()
        assert set(outcome.values()) == {200}

        # 3. Stop it mid-run while posts keep coming (4 in flight at a time).
        stop_posting = asyncio.Event()

        async def poster() -> None:
            while not stop_posting.is_set():
                await post_one()

        posters = [asyncio.create_task(poster()) for _ in range(4)]
        await asyncio.sleep(0.5)
        await asyncio.to_thread(node.stop)
        deadline = time.monotonic() + 20
        while await _status(ing, "/readyz") != 503:
            assert time.monotonic() < deadline, "readyz never noticed the outage"
            await asyncio.sleep(0.2)
        assert await _status(ing, "/healthz") == 200
        await asyncio.sleep(3)  # > the produce deadline: posts now time out
        stop_posting.set()
        await asyncio.gather(*posters)
        during = dict(outcome)
        assert 503 in during.values(), "no post was refused while the broker was down"
        assert set(during.values()) <= {200, 503}

        # 4. Restart: the same producers reconnect and posts succeed again.
        await asyncio.to_thread(node.start)
        await ing.wait_ready(timeout_s=60)
        deadline = time.monotonic() + 30
        while True:
            await post_one()
            if outcome[f"wamid.O{n:05d}"] == 200:
                break
            assert time.monotonic() < deadline, ("still refused after restart", answers[-1])
            await asyncio.sleep(0.5)

        # 5. Every 200 is in Kafka (503s may be there too: Meta's retry is deduped).
        accepted = {w for w, s in outcome.items() if s == 200}
        recs = await ing.read(topics.INBOUND, min_count=len(accepted), timeout_s=60,
                              settle_s=1.0)
        stored = {InboundEvent.from_bytes(r.value or b"").event_id for r in recs}
        assert accepted <= stored, sorted(accepted - stored)[:10]
        assert "wamid.EARLY" not in stored
