"""A conversation driver: plays one WhatsApp user against a running wastream.

It signs and POSTs webhooks exactly as Meta does (text, list and button picks,
locations) to the ingress, and reads the bot's replies to that user from
``wa.outbound``. ``wastream chat`` and the end-to-end tests use it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import topics
from schemas.outbound import OutboundMessage
from wastream.config import Settings, reveal
from wastream.config.kafka import client_args

PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
WABA_ID = "102290129340398"


class DriverError(RuntimeError):
    """The ingress refused a webhook, or no reply came in time."""

    transient = True


def render(body: dict[str, Any]) -> str:
    """A Graph API message body as a person reads it on a phone (options numbered)."""
    if body.get("type") == "text":
        return str(body["text"]["body"])
    if body.get("type") == "template":  # outside the window: only the name and values
        tpl = body["template"]
        params = [p["text"] for c in tpl.get("components", []) if c.get("type") == "body"
                  for p in c.get("parameters", [])]
        lines = [f"[template {tpl['name']}/{tpl['language']['code']}] {' | '.join(params)}"]
        lines += [f"  {i}. {oid}" for i, (oid, _t, _d) in enumerate(options(body), start=1)]
        return "\n".join(lines)
    if body.get("type") == "image":
        image = body.get("image") or {}
        return f"[photo {image.get('id', '')}] {image.get('caption', '')}".rstrip()
    inter = body.get("interactive") or {}
    lines = [str((inter.get("body") or {}).get("text", ""))]
    for i, (_id, title, desc) in enumerate(options(body), start=1):
        lines.append(f"  {i}. {title}" + (f" — {desc}" if desc else ""))
    if inter.get("type") == "location_request_message":
        lines.append("  [send your location: /location <lat>,<lon>]")
    return "\n".join(lines)


def options(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, title, description) of every choice an interactive body offers."""
    if body.get("type") == "template":  # quick replies: (payload, payload, "")
        return [(p["payload"], p["payload"], "")
                for c in body["template"].get("components", []) if c.get("type") == "button"
                for p in c.get("parameters", [])]
    inter = body.get("interactive") or {}
    if inter.get("type") == "list":
        return [
            (r["id"], r["title"], r.get("description", ""))
            for s in inter["action"]["sections"]
            for r in s["rows"]
        ]
    if inter.get("type") == "button":
        return [(b["reply"]["id"], b["reply"]["title"], "") for b in inter["action"]["buttons"]]
    return []


@dataclass
class ConversationDriver:
    """One user. ``await start()`` before talking; replies are read from the moment of start."""

    webhook_url: str
    app_secret: str
    bootstrap: str
    outbound_topic: str
    wa_id: str
    name: str = "Test User"
    phone_number_id: str = PHONE_NUMBER_ID
    last: OutboundMessage | None = None  # the last interactive reply (for numbered picks)
    latest: OutboundMessage | None = None  # the very last reply, whatever it was
    ago_s: float = 0.0  # Meta's timestamp of this user's messages is this far in the past
    on_post: Callable[[str, float], None] | None = None  # (wa_id, timestamp) of each message
    #: How the consumer connects (wastream.config.kafka.client_args); None: plaintext to
    #: ``bootstrap``.
    connection: dict[str, Any] | None = None
    _consumer: AIOKafkaConsumer | None = None
    _pending: list[OutboundMessage] = field(default_factory=list)
    _session: aiohttp.ClientSession | None = None
    _seen: set[str] = field(default_factory=set)

    @classmethod
    def from_settings(cls, settings: Settings, webhook_url: str, wa_id: str) -> ConversationDriver:
        return cls(
            webhook_url=webhook_url,
            app_secret=reveal(settings.meta.app_secret) or "",
            bootstrap=settings.kafka_bootstrap_servers,
            connection=client_args(settings.kafka),
            outbound_topic=settings.topic(topics.OUTBOUND),
            wa_id=wa_id,
        )

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        c = AIOKafkaConsumer(
            **(self.connection or {"bootstrap_servers": self.bootstrap}),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        await c.start()
        parts = c.partitions_for_topic(self.outbound_topic)
        for _ in range(50):
            if parts:
                break
            await c._client.force_metadata_update()
            parts = c.partitions_for_topic(self.outbound_topic)
            await asyncio.sleep(0.1)
        if not parts:
            await c.stop()
            raise DriverError(f"topic {self.outbound_topic} does not exist")
        tps = [TopicPartition(self.outbound_topic, p) for p in sorted(parts)]
        c.assign(tps)
        await c.seek_to_end(*tps)
        for tp in tps:  # resolve the end now, so no reply after this point is missed
            await c.position(tp)
        self._consumer = c

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._session is not None:
            await self._session.close()

    # -- what the user does -------------------------------------------------------------

    async def post(self, message: dict[str, Any]) -> str:
        """POST one message webhook as this user; returns its wamid."""
        wamid = f"wamid.DRV{uuid.uuid4().hex.upper()}"
        ts = int(time.time() - self.ago_s)
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": DISPLAY_NUMBER,
                "phone_number_id": self.phone_number_id,
            },
            "contacts": [{"profile": {"name": self.name}, "wa_id": self.wa_id}],
            "messages": [
                {"from": self.wa_id, "id": wamid, "timestamp": str(ts), **message}
            ],
        }
        body = orjson.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}],
            }
        )
        await self.post_raw(body)
        if self.on_post is not None:
            self.on_post(self.wa_id, ts)
        return wamid

    async def post_raw(self, body: bytes) -> None:
        sig = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        assert self._session is not None, "start() first"
        async with self._session.post(
            self.webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig},
        ) as r:
            if r.status != 200:
                raise DriverError(f"ingress answered {r.status}: {await r.text()}")

    async def text(self, body: str) -> str:
        return await self.post({"type": "text", "text": {"body": body}})

    async def pick(self, row_id: str, title: str = "") -> str:
        return await self.post(
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": row_id, "title": title or row_id},
                },
            }
        )

    async def tap(self, button_id: str, title: str = "") -> str:
        return await self.post(
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": button_id, "title": title or button_id},
                },
            }
        )

    async def button(self, payload: str, text: str = "") -> str:
        """Press a template's quick-reply button, as Meta reports it (a ``button``
        message with the payload the template was sent with)."""
        return await self.post({"type": "button", "button": {"payload": payload,
                                                             "text": text or payload}})

    async def location(self, lat: float, lon: float) -> str:
        return await self.post(
            {"type": "location", "location": {"latitude": lat, "longitude": lon}}
        )

    async def image(self, media_id: str, caption: str = "", sha256: bytes = b"") -> str:
        """Send a photo, as Meta reports one: its media id (and caption, and the sha256
        digest of its bytes, which Meta's webhook states in base64)."""
        image = {"id": media_id, "mime_type": "image/jpeg"}
        if caption:
            image["caption"] = caption
        if sha256:
            image["sha256"] = base64.b64encode(sha256).decode()
        return await self.post({"type": "image", "image": image})

    async def choose(self, n: int) -> str:
        """Pick option ``n`` (1-based) of the last interactive reply, as the phone would."""
        if self.last is None:
            raise DriverError("no options to choose from")
        opts = options(self.last.body)
        if not 1 <= n <= len(opts):
            raise DriverError(f"option {n} does not exist (1..{len(opts)})")
        oid, title, _ = opts[n - 1]
        if self.last.body.get("type") == "template":
            return await self.button(oid)
        if self.last.body["interactive"]["type"] == "list":
            return await self.pick(oid, title)
        return await self.tap(oid, title)

    # -- what the bot says --------------------------------------------------------------

    async def replies(
        self, min_count: int = 1, timeout_s: float = 30.0, settle_s: float = 0.3
    ) -> list[OutboundMessage]:
        """The next replies to this user: wait for ``min_count``, then ``settle_s`` more."""
        assert self._consumer is not None, "start() first"
        deadline = time.monotonic() + timeout_s
        settle: float | None = None
        while True:
            now = time.monotonic()
            if settle is None and len(self._pending) >= min_count:
                settle = now + settle_s
            if (settle is not None and now >= settle) or now >= deadline:
                break
            batch = await self._consumer.getmany(timeout_ms=100)
            for msgs in batch.values():
                for m in msgs:
                    if m.key != self.wa_id.encode() or not m.value:
                        continue
                    msg = OutboundMessage.from_bytes(m.value)
                    # The same outbound_id again is a re-publication (retry tier, pacing,
                    # replay): the sender sends it once, so the user sees it once.
                    if msg.outbound_id not in self._seen:
                        self._seen.add(msg.outbound_id)
                        self._pending.append(msg)
        out, self._pending = self._pending, []
        for msg in out:
            if options(msg.body):
                self.last = msg
        if out:
            self.latest = out[-1]
        return out
