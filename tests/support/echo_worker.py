"""A minimal Faust worker around the REAL failure router, tier consumer and sender, with
a trivial ``process`` (decode the envelope, publish ``{"event_id", "type"}`` to
``wa.state``), so that the failure machinery is tested against the real broker on its
own. Run as ``python -m tests.support.echo_worker`` with a System's env;
``WASTREAM_FAULTS`` injects failures; ``WASTREAM_ECHO_SENDER=1`` also runs the sender (an
option group of its own, as a component declares one: ``EchoOptions``)."""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import faust
import orjson
from pydantic import Field

from schemas import topics
from schemas.envelope import InboundEvent
from streams.failure import tiers as retry
from streams.failure.router import FailureRouter, Origin
from streams.runtime import holes
from wastream.config import Group, Settings


class EchoOptions(Group):
    section = "echo"
    title = "The echo worker (tests only)"

    sender: bool = Field(False, alias="WASTREAM_ECHO_SENDER",
                         description="also run the real sender on wa.outbound")


def build(settings: Settings) -> faust.App:
    app = faust.App(settings.faust_app_id, broker=f"kafka://{settings.kafka_bootstrap_servers}",
                    store="memory://", autodiscover=False, web_enabled=False,
                    topic_partitions=settings.partitions, consumer_auto_offset_reset="earliest",
                    producer_acks=-1, broker_commit_interval=0.5,
                    # start_echo_worker sets 10 s: a kill -9'd member is noticed sooner
                    broker_session_timeout=settings.worker.session_timeout_s,
                    datadir=str(Path(tempfile.gettempdir()) / f"echo-{settings.faust_app_id}"))
    inbound = app.topic(settings.topic(topics.INBOUND), key_type=bytes, value_type=bytes,
                        key_serializer="raw", value_serializer="raw")
    state_topic = settings.topic(topics.STATE)

    async def process(key: bytes | None, value: bytes | None,
                      headers: Mapping[str, bytes], place: Origin) -> None:
        ev = InboundEvent.from_bytes(value or b"")
        await app.producer.send_and_wait(
            state_topic, key, orjson.dumps({"event_id": ev.event_id, "type": ev.type}),
            None, None, [])

    router = FailureRouter(app, settings, process)
    # as the real conversation agent: Faust may skip records after a kill -9
    guard = holes.install(app, settings, inbound.get_topic_name(), router.handle, "echo")

    @app.agent(inbound, concurrency=1)
    async def conversations(stream: Any) -> None:
        await holes.guarded(guard, stream)

    retry.register(app, settings)
    if settings.options(EchoOptions).sender:
        from streams.delivery import sender

        sender.register(app, settings)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    app = build(Settings.from_env())
    sys.argv = [sys.argv[0], "worker", "-l", "info"]
    app.main()


if __name__ == "__main__":
    main()
