"""HTTP handlers: Meta's verification GET, the webhook POST, health, readiness (metrics are
served on the health port: ``ingress.app``)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from ingress.errors import ProduceError
from ingress.logs import correlation_id
from ingress.metrics import IngressMetrics
from ingress.signature import Verdict, verify, well_formed
from ingress.sink import KafkaSink, OutRecord
from schemas import headers, topics
from schemas.envelope import InboundEvent
from schemas.meta import InvalidJson, MetaPayloadError, parse_bytes
from wastream.config import Settings, reveal

log = logging.getLogger(__name__)


_second: tuple[int, str] = (-1, "")

# A client's X-Request-Id is kept in a Kafka header: accept only a safe, short alphabet.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


def client_request_id(request: web.Request) -> str | None:
    """The X-Request-Id the client sent, when it is a plain short id (else None)."""
    rid = request.headers.get("X-Request-Id")
    return rid if rid is not None and _REQUEST_ID.fullmatch(rid) else None


def _utc_now_ms() -> str:
    """Now as ISO 8601 UTC with milliseconds, as ``datetime.isoformat`` writes it; the
    date and time up to the second are formatted once per second, not per request."""
    global _second
    now = time.time()
    sec = int(now)
    if _second[0] != sec:
        _second = (sec, datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{int((now - sec) * 1000):03d}+00:00"


def json_response(status: int, body: dict[str, Any],
                  headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response (every answer of the ingress but the challenge and /metrics)."""
    body.setdefault("correlation_id", correlation_id.get())
    # The header given whole: aiohttp's content_type= argument parses and rebuilds it.
    hdrs = {"Content-Type": "application/json"}
    if headers:
        hdrs.update(headers)
    return web.Response(status=status, body=orjson.dumps(body), headers=hdrs)


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> web.Response:
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


def _closing(resp: web.Response) -> web.Response:
    """``resp`` with ``Connection: close``: an answer given before the body was read
    whole ends the connection (the server stops reading it after a short linger)."""
    resp.force_close()
    return resp


class Handlers:
    """The routes of one app, sharing its settings, sink and metrics."""

    def __init__(self, settings: Settings, sink: KafkaSink, metrics: IngressMetrics,
                 *, secret: bytes | None, max_body_bytes: int) -> None:
        self.settings = settings
        self.sink = sink
        self.metrics = metrics
        self.secret = secret
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = settings.ingress.body_timeout_s
        # Bodies still arriving, being read at once (non-blocking: beyond it, 503).
        self.reading = asyncio.Semaphore(settings.ingress.max_reading)
        # Meta's signature has no timestamp, so a captured body verifies forever. Past the
        # worker's dedupe window its event ids may be forgotten and a replay would drive
        # a conversation again: updates older than that window are dropped.
        self.max_age_s = settings.conversation.dedupe_ttl_s
        self.raw_topic = settings.topic(topics.RAW)
        self.inbound_topic = settings.topic(topics.INBOUND)

    async def verify_subscription(self, request: web.Request) -> web.StreamResponse:
        """Meta's GET handshake: echo ``hub.challenge`` for the right token, else 403."""
        q = request.query
        token = reveal(self.settings.meta.verify_token)
        given = q.get("hub.verify_token", "")
        challenge = q.get("hub.challenge")
        if (token is not None and q.get("hub.mode") == "subscribe" and challenge
                and hmac.compare_digest(given.encode(), token.encode())):
            log.info("webhook subscription verified")
            return web.Response(text=challenge, content_type="text/plain")
        log.warning("webhook verification refused")
        return error_response(403, "verification_failed",
                              "hub.mode must be 'subscribe' with the configured hub.verify_token")

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """Verify, split, produce; 200 only once Kafka acknowledged every record."""
        started = time.perf_counter()
        try:
            resp = await self._webhook(request)
        finally:
            self.metrics.latency.observe(time.perf_counter() - started)
        if 400 <= resp.status < 500:
            # Rare and telling (a wrong app secret shows up here first); no body content.
            log.info("webhook rejected", extra={"status": resp.status})
        return resp

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        sig_header = request.headers.get("X-Hub-Signature-256")
        if self.secret is not None:
            # What can be checked before the body: its absence, then its form.
            form = well_formed(sig_header)
            if form is Verdict.MISSING:
                return error_response(401, "signature_missing",
                                      "X-Hub-Signature-256 is required")
            if form is Verdict.WRONG:
                return _closing(error_response(403, "signature_invalid",
                                               "X-Hub-Signature-256 is not sha256=<64 hex>"))
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            return _closing(error_response(413, "body_too_large",
                                           f"body over the limit of {self.max_body_bytes} bytes"))
        raw = await self._read(request)
        if isinstance(raw, web.Response):
            return raw
        if self.secret is not None and verify(raw, sig_header, self.secret) is not Verdict.OK:
            return error_response(403, "signature_invalid",
                                  "X-Hub-Signature-256 does not match the body")
        # The exact header Meta sends is taken as is; anything else is parsed.
        if (request.headers.get("Content-Type") != "application/json"
                and request.content_type != "application/json"):
            return error_response(415, "unsupported_media_type",
                                  "Content-Type must be application/json")
        cid = correlation_id.get()
        received_at = _utc_now_ms()
        try:
            events = parse_bytes(raw, correlation_id=cid, received_at=received_at)
        except InvalidJson as exc:
            return error_response(400, "invalid_json", str(exc))
        except MetaPayloadError as exc:
            return error_response(400, "not_whatsapp_payload", str(exc))
        events, stale = self._split_stale(events)
        cid_b = cid.encode()
        raw_headers = [(headers.CORRELATION_ID, cid_b), (headers.RECEIVED_AT, received_at.encode())]
        if stale:  # the body is still kept whole, for the record
            raw_headers.append((headers.STALE_UPDATES, str(len(stale)).encode()))
        rid = client_request_id(request)
        if rid is not None:  # for tracing only: the body's key is always our own id
            raw_headers.append((headers.CLIENT_REQUEST_ID, rid.encode()))
        raw_rec = OutRecord(self.raw_topic, cid_b, raw, raw_headers, spread=True)
        ev_headers = [(headers.CORRELATION_ID, cid_b)]
        records = [OutRecord(self.inbound_topic, e.key, e.to_bytes(), ev_headers) for e in events]
        produce_started = time.perf_counter()
        try:
            await self.sink.publish(raw_rec, records)
        except ProduceError as exc:
            log.warning("answering 503: events not stored", extra={
                "reason": exc.code, "detail": str(exc), "events": len(events)})
            return error_response(503, exc.code, f"events not stored, retry later: {exc}")
        self.metrics.produce.observe(time.perf_counter() - produce_started)
        types: dict[str, int] = {}
        for e in events:
            types[e.type] = types.get(e.type, 0) + 1
        self.metrics.count_events(types)
        if stale:
            self.metrics.count_stale(stale)
            # A replay of a capture, or a retry older than Meta's own 7 days: 200 all the
            # same, since any other answer makes Meta (or the replayer) send it again.
            log.warning("updates older than the dedupe window dropped", extra={
                "stale": len(stale), "events": len(events),
                "oldest_age_s": int(time.time()) - min(e.timestamp or 0 for e in stale)})
        # One line per accepted body only at DEBUG: at thousands of bodies a second an INFO
        # access log costs more CPU than the parsing; /metrics counts them instead.
        if log.isEnabledFor(logging.DEBUG):
            ids = [e.event_id for e in events]
            log.debug("webhook accepted", extra={
                "events": len(events), "types": dict(types), "event_ids": ids,
                # A body of one event: the line is about it (wastream.observability.logs).
                "event_id": ids[0] if len(ids) == 1 else None,
                "wa_ids": sorted({e.wa_id for e in events})})
        answer: dict[str, Any] = {"status": "accepted", "events": len(events)}
        if stale:
            answer["stale_dropped"] = len(stale)
        return json_response(200, answer)

    async def _read(self, request: web.Request) -> bytes | web.Response:
        """The body, or the answer when it cannot be had.

        A body that arrived whole with its headers (a webhook from Meta, small and sent
        at once) is taken as it is. One still arriving waits, unverified, for at most
        ``body_timeout_s`` (408 past it) and only in one of ``max_reading`` slots: beyond
        them it is answered 503 at once, so that slow clients (a trickled body, a
        garbage signature with a large Content-Length) hold a bounded number of
        requests while signed webhooks go on being served."""
        if request.content.is_eof():  # nothing left to wait for
            return await self._read_now(request)
        if self.reading.locked():
            self.metrics.count_refused("busy")
            return _closing(error_response(
                503, "busy", "too many request bodies still arriving; retry later",
                headers={"Retry-After": "1"}))
        async with self.reading:
            try:
                async with asyncio.timeout(self.body_timeout_s):
                    return await self._read_now(request)
            except TimeoutError:
                self.metrics.count_refused("body_timeout")
                return _closing(error_response(
                    408, "body_timeout", f"body not received within {self.body_timeout_s} s"))

    async def _read_now(self, request: web.Request) -> bytes | web.Response:
        try:
            return await request.read()  # capped by the app's client_max_size
        except web.HTTPRequestEntityTooLarge:
            return _closing(error_response(
                413, "body_too_large", f"body over the limit of {self.max_body_bytes} bytes"))

    def _split_stale(self, events: list[InboundEvent]) -> tuple[list[InboundEvent],
                                                                 list[InboundEvent]]:
        """(fresh, stale): stale are the updates whose Meta timestamp is older than the
        dedupe window. Every family is judged alike (messages, statuses, calls, account
        updates: their own timestamp, else the entry's ``time``); an update without any
        timestamp is kept, having nothing to be judged by."""
        oldest = time.time() - self.max_age_s
        if all(e.timestamp is None or e.timestamp >= oldest for e in events):
            return events, []
        fresh = [e for e in events if e.timestamp is None or e.timestamp >= oldest]
        return fresh, [e for e in events if e.timestamp is not None and e.timestamp < oldest]

    async def healthz(self, request: web.Request) -> web.StreamResponse:
        """The process is up (whether or not Kafka is)."""
        return json_response(200, {"status": "ok"})

    async def readyz(self, request: web.Request) -> web.StreamResponse:
        """200 when Kafka answers now, 503 otherwise."""
        ok = await self.sink.ready()
        self.metrics.ready.set(1 if ok else 0)
        return json_response(200 if ok else 503, {"ready": ok, "kafka": ok})

