"""``wastream demo``: one signed "hi" through the running system, every hop shown."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
import time
import uuid
from typing import Any

import aiohttp
import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.outbound import OutboundMessage
from wastream.config import Settings

DEMO_PHONE_NUMBER_ID = "106540352242922"


def demo_body(wa_id: str, text: str) -> tuple[bytes, str]:
    wamid = f"wamid.DEMO{uuid.uuid4().hex.upper()}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881",
                         "phone_number_id": DEMO_PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Demo User"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text}}],
        }}]}],
    }
    return orjson.dumps(body), wamid


def _delivered(reply: OutboundMessage, deliveries: list[DeliveryUpdate]) -> bool:
    return any(d.outbound_id == reply.outbound_id for d in deliveries)


def render(body: dict[str, Any]) -> str:
    """A Graph API message body as a person would read it on a phone."""
    kind = body.get("type")
    if kind == "text":
        return str(body["text"]["body"])
    if kind == "interactive":
        inter = body["interactive"]
        lines = [str(inter.get("body", {}).get("text", ""))]
        if inter.get("type") == "list":
            for section in inter["action"].get("sections", []):
                if section.get("title"):
                    lines.append(f"  [{section['title']}]")
                for row in section.get("rows", []):
                    desc = f" — {row['description']}" if row.get("description") else ""
                    lines.append(f"   • {row['title']}{desc}")
        elif inter.get("type") == "button":
            lines += [f"   ( {b['reply']['title']} )" for b in inter["action"]["buttons"]]
        else:
            lines.append(f"   <{inter.get('type')}>")
        return "\n".join(lines)
    return orjson.dumps(body).decode()


async def _demo(settings: Settings, url: str, wa_id: str, text: str, timeout_s: float) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        # Position at the end *before* posting so that only this run's reply is read.
        outbound = settings.topic(topics.OUTBOUND)
        delivery = settings.topic(topics.DELIVERY)
        partitions: set[int] = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # The consumer's cached metadata only learns of topics on a refresh.
            await consumer._client.force_metadata_update()  # noqa: SLF001
            partitions = consumer.partitions_for_topic(outbound) or set()
            if partitions and consumer.partitions_for_topic(delivery):
                break
            await asyncio.sleep(0.2)
        if not partitions:
            print(f"✗ topic {outbound} does not exist: run `wastream topics`")
            return 1
        tps = [TopicPartition(t, p) for t in (outbound, delivery)
               for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)

        body, wamid = demo_body(wa_id, text)
        secret = settings.app_secret or ""
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        print(f"→ POST {url}  (user {wa_id} writes {text!r}, message id {wamid})")
        async with aiohttp.ClientSession() as s, s.post(
            url, data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig},
        ) as r:
            print(f"← {r.status} {await r.text()}")
            if r.status != 200:
                return 1

        reply: OutboundMessage | None = None
        deliveries: list[DeliveryUpdate] = []
        want_delivery = bool(settings.graph_url and settings.access_token)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not (
            reply is not None and (not want_delivery or _delivered(reply, deliveries))
        ):
            batch = await consumer.getmany(timeout_ms=500)
            for tp, msgs in batch.items():
                for m in msgs:
                    if tp.topic == outbound:
                        out = OutboundMessage.from_bytes(m.value or b"")
                        if out.in_reply_to == wamid:
                            reply = out
                    else:
                        deliveries.append(DeliveryUpdate.from_bytes(m.value or b""))
        if reply is None:
            print(f"✗ no reply on {outbound} within {timeout_s:.0f}s")
            return 1
        print(f"\nbot replies (wa.outbound, id {reply.outbound_id}):\n{render(reply.body)}\n")
        if want_delivery:
            if not _delivered(reply, deliveries):
                print(f"✗ the sender did not report the reply on {delivery} in time")
                return 1
            done = next(d for d in deliveries if d.outbound_id == reply.outbound_id)
            print(f"sender: POSTed to {settings.graph_url} → {done.status}, wamid {done.wamid}\n")
    finally:
        await consumer.stop()

    conn = await asyncpg.connect(settings.database_url,
                                 server_settings={"search_path": settings.db_schema})
    try:
        events: list[asyncpg.Record] = []
        state: list[asyncpg.Record] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not (events and state):
            events = await conn.fetch(
                "SELECT event_id, type, wa_id, received_at FROM wa_events WHERE event_id = $1",
                wamid)
            state = await conn.fetch("SELECT * FROM chat_state WHERE wa_id = $1", wa_id)
            await asyncio.sleep(0.3)
        print("Postgres wa_events:")
        for row in events:
            print("  ", dict(row))
        print("Postgres chat_state:")
        for row in state:
            print("  ", {k: v for k, v in dict(row).items()})
        if not (events and state):
            print(f"✗ rows not projected within {timeout_s:.0f}s")
            return 1
    finally:
        await conn.close()
    print("\n✓ webhook → Kafka → worker → reply, and the rows in Postgres")
    return 0


def run_demo(url: str, wa_id: str, text: str, timeout_s: float) -> int:
    settings = Settings.from_env()
    if not settings.app_secret:
        print("wastream demo: WHATSAPP_APP_SECRET is not set (the ingress checks signatures)",
              file=sys.stderr)
        return 2
    return asyncio.run(_demo(settings, url, wa_id, text, timeout_s))
