"""``wastream demo``: one signed "hi" through the running system, every hop shown.

It plays the user with the same ConversationDriver that ``wastream chat`` and the
end-to-end tests use, then shows what the sender did and what the projector wrote.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import topics
from schemas.delivery import DeliveryUpdate
from wastream.config import Settings
from wastream.config.kafka import client_args
from wastream.driver import ConversationDriver, DriverError, render
from wastream.output import table


async def _delivery_of(
    settings: Settings, outbound_id: str, timeout_s: float
) -> DeliveryUpdate | None:
    """The sender's report on ``outbound_id`` (read from the start of wa.delivery)."""
    topic = settings.topic(topics.DELIVERY)
    consumer = AIOKafkaConsumer(
        **client_args(settings.kafka), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for msgs in (await consumer.getmany(timeout_ms=300)).values():
                for m in msgs:
                    update = DeliveryUpdate.from_bytes(m.value or b"")
                    if update.outbound_id == outbound_id:
                        return update
        return None
    finally:
        await consumer.stop()


def cell(value: object) -> str:
    """A value as a person reads it: times to the second in UTC, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def rows_text(rows: list[dict[str, Any]], indent: str = "  ") -> str:
    """Rows as an aligned table under a header of their column names."""
    if not rows:
        return f"{indent}(no rows)"
    header = list(rows[0])
    body = table(header, [[cell(r.get(c)) for c in header] for r in rows])
    return "\n".join(indent + line for line in body.splitlines())


async def _rows(
    settings: Settings, wamid: str, wa_id: str, timeout_s: float
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.db_schema}
    )
    try:
        events: list[asyncpg.Record] = []
        state: list[asyncpg.Record] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not (events and state):
            events = await conn.fetch(
                "SELECT event_id, type, wa_id, received_at FROM wa_events WHERE event_id = $1",
                wamid,
            )
            state = await conn.fetch(
                "SELECT wa_id, seq, flow, step, language, updated_at FROM chat_state "
                "WHERE wa_id = $1",
                wa_id,
            )
            if not (events and state):
                await asyncio.sleep(0.3)
        return events, state
    finally:
        await conn.close()


async def _demo(settings: Settings, url: str, wa_id: str, text: str, timeout_s: float) -> int:
    driver = ConversationDriver.from_settings(settings, url, wa_id)
    await driver.start()
    try:
        print(f"→ POST {url}  (user {wa_id} writes {text!r})")
        wamid = await driver.text(text)
        print(f"← 200: stored in Kafka as event {wamid}")
        replies = [
            r for r in await driver.replies(1, timeout_s=timeout_s) if r.in_reply_to == wamid
        ]
    except DriverError as exc:
        print(f"✗ {exc}")
        return 1
    finally:
        await driver.stop()
    if not replies:
        print(f"✗ no reply on {settings.topic(topics.OUTBOUND)} within {timeout_s:.0f}s")
        return 1
    reply = replies[0]
    print(f"\nbot replies (wa.outbound, id {reply.outbound_id}):\n{render(reply.body)}\n")

    if settings.meta.graph_url and settings.meta.access_token:
        done = await _delivery_of(settings, reply.outbound_id, timeout_s)
        if done is None:
            print(f"✗ the sender did not report {reply.outbound_id} in time")
            return 1
        print(f"sender: POSTed to {settings.meta.graph_url} → {done.status}, "
              f"wamid {done.wamid}\n")

    events, state = await _rows(settings, wamid, wa_id, timeout_s)
    print("Postgres wa_events:")
    print(rows_text([dict(r) for r in events]))
    print("Postgres chat_state:")
    print(rows_text([dict(r) for r in state]))
    if not (events and state):
        print(f"✗ rows not projected within {timeout_s:.0f}s")
        return 1
    print("\n✓ webhook → Kafka → worker → reply, and the rows in Postgres")
    return 0


def run_demo(url: str, wa_id: str, text: str, timeout_s: float) -> int:
    settings = Settings.from_env()
    if settings.meta.app_secret is None:
        print(
            "wastream demo: WHATSAPP_APP_SECRET is not set (the ingress checks signatures)",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(_demo(settings, url, wa_id, text, timeout_s))
