"""The Faust floor: a bare Faust agent that forwards every ``wa.inbound`` record to
``wa.state`` and does nothing else (no decode, no table, no engine).

It is the raw passthrough's twin inside Faust (same app settings as the worker: acks=all,
at-least-once, one actor, the producer flushed before offsets are committed), so the
benchmark can show how much of the gap to the raw passthrough is Faust's own per-event
machinery (fetch thread → conductor → channel → stream → ack) and how much is ours."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import faust

from schemas import topics
from streams.worker import run_app
from wastream.config import Settings
from wastream.config.kafka import faust_credentials


def main() -> int:
    settings = Settings.from_env()
    app = faust.App(
        f"{settings.faust_app_id}-floor",
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        broker_credentials=faust_credentials(settings.kafka),
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_partitions=settings.partitions,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        processing_guarantee="at_least_once",
    )
    inbound = app.topic(
        settings.topic(topics.INBOUND), key_serializer="raw", value_serializer="raw"
    )
    out = settings.topic(topics.STATE)

    @app.agent(inbound, name="floor", concurrency=1)
    async def floor(stream: Any) -> None:
        async for event in stream.events():
            await app.producer.send(out, event.key, event.value, None, None, None)

    asyncio.set_event_loop(asyncio.new_event_loop())
    return run_app(app, "warning")


if __name__ == "__main__":
    sys.exit(main())
