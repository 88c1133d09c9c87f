"""The outbound sender: consumes ``wa.outbound`` and POSTs each message to the Graph API.

Per message (``OutboundMessage``, key = recipient wa_id), inside the failure router
(``name="outbound"``, so messages to one user stay in order across retries):

1. claim the ``outbound_id`` in the durable ledger (``streams.delivery.ledger``): an id already
   accepted is not sent again; one a dead process was sending is not re-sent (at most
   once) and reported failed/in doubt;
2. the Graph API breaker (``graph``) must let the call through, else the message is
   held (no retry budget spent);
3. pace per business number and per recipient (``streams.delivery.pacing``);
4. POST; errors are classified by Meta's code (``streams.failure.errors``): 130429 / 131056 /
   5xx / timeouts transient → retry tiers; 131047, 131026, 131051, 100 permanent →
   ``wa.dlq``, except a 131047 to a message with a template version: that template
   is sent instead, once (``Sender._send_template``, decision 0015);
5. emit ``DeliveryUpdate`` to ``wa.delivery``: ``accepted`` with the wamid (source
   ``dry_run`` when no Graph URL/token is configured), or ``failed`` with the error when
   the message is dead-lettered.

A mark-as-read body (``{"messaging_product": "whatsapp", "status": "read",
"message_id": …}``, see :func:`schemas.outbound.mark_read`) goes the same way
but yields no delivery record and is not paced per recipient.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Histogram

from schemas import headers as h
from schemas import topics
from schemas.delivery import DeliveryUpdate
from schemas.outbound import OutboundMessage, template_key
from schemas.record import RecordError
from streams.delivery.graph import (
    DryRunClient,
    MessagesClient,
    SendResult,
    client_from_settings,
)
from streams.delivery.ledger import DONE, IN_DOUBT, Ledger, MemoryLedger, Prepare
from streams.delivery.pacing import Pacer
from streams.delivery.templates import TemplateStatuses, follow, release
from streams.failure.breakers import BreakerPolicy, BreakerRegistry
from streams.failure.errors import (
    GraphError,
    GraphOutsideWindow,
    GraphPairRateLimited,
    GraphTemplateUnavailable,
    TemplateUnavailable,
    TransientError,
    is_transient,
)
from streams.failure.records import FaustPublisher, Origin, Publisher
from streams.failure.router import FailureRouter
from streams.media.outbound import MediaNotStored, Uploads, media_gone
from streams.runtime import holes
from wastream.config import Settings

log = logging.getLogger(__name__)

GRAPH = "graph"

OUTCOMES = Counter("wastream_sender_requests_total",
                   "Graph API sends by outcome (accepted, dry_run, transient, permanent) and "
                   "Meta's error code (none when it gave none)", ["outcome", "code"])
LATENCY = Histogram("wastream_sender_request_seconds", "Graph API send latency (with uploads)",
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
__all__ = ["GRAPH", "Sender", "install", "register"]


READY_WAIT_S = 30.0


class TemplateStatusesNotRead(TransientError):
    """``wa.templates`` was not read to its end in time: the message waits in the
    retry tiers."""


def _error_dict(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, GraphError):
        return exc.as_dict()
    return {"class": type(exc).__name__, "message": str(exc)[:500],
            "transient": is_transient(exc)}


def _template_instead(msg: OutboundMessage, exc: BaseException) -> bool:
    """A 131047 to a free-form message that has a template version (decision 0015);
    without one, 131047 stays a permanent error (dead-lettered)."""
    return (isinstance(exc, GraphOutsideWindow) and msg.template is not None
            and msg.template != msg.body)


def _graph_outage(exc: BaseException) -> bool:
    """The Graph API is unwell: a transient error, except a per-user rate limit."""
    return is_transient(exc) and not isinstance(exc, GraphPairRateLimited)


class Sender:
    """The ``process`` of the outbound router (see the module docstring)."""

    def __init__(self, settings: Settings, client: MessagesClient, ledger: Ledger | MemoryLedger,
                 pacer: Pacer, publisher: Publisher,
                 breakers: BreakerRegistry | None = None, uploads: Uploads | None = None,
                 templates: TemplateStatuses | None = None) -> None:
        self.client = client
        # Each template's status (None: every template is sent, as in a dry run).
        self.templates = templates
        self.uploads = uploads  # stored media in replies (streams.media.outbound)
        self.ledger = ledger
        self.pacer = pacer
        self.publisher = publisher
        self.delivery_topic = settings.topic(topics.DELIVERY)
        self.breakers = breakers or BreakerRegistry(
            BreakerPolicy(settings.sender.graph_breaker_failures,
                          settings.sender.graph_breaker_open_s))

    async def process(self, key: bytes | None, value: bytes | None,
                      headers: Mapping[str, bytes], place: Origin) -> None:
        msg = OutboundMessage.from_bytes(value or b"")
        if not msg.outbound_id or not msg.phone_number_id:
            raise RecordError("outbound message without outbound_id or phone_number_id")
        if msg.template_of is not None:
            await self._failed_later(msg, msg.template_of)
            return
        is_read = msg.body.get("status") == "read"
        state, wamid = await self.ledger.claim(msg.outbound_id)
        if state == DONE:
            log.info("outbound %s already settled; not sent again", msg.outbound_id)
            if wamid and not is_read:  # the delivery record may have been lost in a crash
                await self._delivery(msg, "accepted", wamid=wamid)
            return
        if state == IN_DOUBT:
            log.warning("outbound %s was in flight when a worker died; not re-sent",
                        msg.outbound_id)
            await self._delivery(msg, "failed", error={
                "class": "InDoubt", "transient": False,
                "message": "a worker died while sending; not sent again (at most once)"})
            return
        try:
            await self._may_send(msg.body)
        except TemplateUnavailable as exc:
            await self.ledger.settle(msg.outbound_id, "failed", error=_error_dict(exc))
            raise  # held: a dead letter, released when the template is approved
        breaker = self.breakers.get(GRAPH)
        probe = False
        try:
            probe = breaker.check()
            if not is_read:
                await self.pacer.acquire(msg.phone_number_id, msg.wa_id)
            result = await self._timed(msg)
        except MediaNotStored as exc:
            # An optional photo whose download is not stored (yet): this message is
            # skipped, recorded as such; the replies around it go on.
            log.info("outbound %s skipped: %s", msg.outbound_id, exc)
            if probe:
                breaker.release_probe()  # the Graph API was not called
            await self.ledger.settle(msg.outbound_id, "failed", error=_error_dict(exc))
            await self._delivery(msg, "failed", error=_error_dict(exc))
            return
        except Exception as exc:
            breaker.failed(exc, probe, outage=_graph_outage)
            self._refused(msg.body, exc)
            await self.ledger.settle(msg.outbound_id, "retry" if is_transient(exc) else "failed",
                                     error=_error_dict(exc))
            if _template_instead(msg, exc):
                await self._send_template(msg, exc)
                return
            raise
        breaker.success()
        # A free-form message with a template version: kept, for a 131047 Meta may
        # still report in a status webhook (``_failed_later``).
        fallback = msg.template if msg.template not in (None, msg.body) else None
        await self.ledger.settle(msg.outbound_id, "accepted", wamid=result.wamid,
                                 template=fallback)
        if not is_read:
            await self._delivery(msg, "accepted", wamid=result.wamid,
                                 source="dry_run" if result.dry_run else "sender")

    async def _send_template(self, msg: OutboundMessage, refused: BaseException) -> None:
        """Meta answered 131047 (outside the window) to a free-form message we judged
        inside it (clock skew, a window misjudged): send its template version, once.

        The template is a message of its own in the ledger, ``<outbound_id>:template``,
        claimed and settled like any other (at most once; in doubt after a crash
        mid-POST); once Meta accepts it, the free-form id is settled ``accepted`` with
        the template's wamid, so a redelivery of the record sends nothing again. A
        failure of the template itself goes to the retry tiers or ``wa.dlq`` as usual."""
        assert msg.template is not None
        tid = f"{msg.outbound_id}:template"
        await self._may_send(msg.template)  # TemplateUnavailable: held, as any template
        state, wamid = await self.ledger.claim(tid)
        if state == IN_DOUBT:
            raise refused  # the template may have been sent: at most once, dead-lettered
        if state != DONE:
            log.info("outbound %s refused outside the window (131047): sending its "
                     "template %s", msg.outbound_id, msg.template.get("template", {}).get("name"))
            await self.pacer.acquire(msg.phone_number_id, msg.wa_id)
            try:
                result = await self.client.send(msg.phone_number_id, msg.template)
            except Exception as exc:
                self._refused(msg.template, exc)
                await self.ledger.settle(tid, "retry" if is_transient(exc) else "failed",
                                         error=_error_dict(exc))
                raise
            await self.ledger.settle(tid, "accepted", wamid=result.wamid)
            wamid = result.wamid
        await self.ledger.settle(msg.outbound_id, "accepted", wamid=wamid,
                                 error={**_error_dict(refused), "replaced_by": tid})
        await self._delivery(msg, "accepted", wamid=wamid)

    async def _timed(self, msg: OutboundMessage) -> SendResult:
        """:meth:`_send`, its latency and outcome counted (by Meta's error code)."""
        started = time.perf_counter()
        try:
            result = await self._send(msg)
        except Exception as exc:
            LATENCY.observe(time.perf_counter() - started)
            code = getattr(exc, "code", None) if isinstance(exc, GraphError) else None
            OUTCOMES.labels("transient" if is_transient(exc) else "permanent",
                            str(code) if code is not None else "none").inc()
            raise
        LATENCY.observe(time.perf_counter() - started)
        OUTCOMES.labels("dry_run" if result.dry_run else "accepted", "none").inc()
        return result

    async def _failed_later(self, request: OutboundMessage, wamid: str) -> None:
        """Meta accepted the free-form message ``wamid`` and then failed it with 131047
        (a status webhook): send its template version, once, exactly as for a 131047
        answered at once (the same ledger id ``<outbound_id>:template``)."""
        found = await self.ledger.template_of(wamid)
        if found is None:
            log.info("131047 reported for %s: no template version to send (none, or "
                     "already sent)", wamid)
            return
        outbound_id, template = found
        original = OutboundMessage(
            outbound_id=outbound_id, wa_id=request.wa_id,
            phone_number_id=request.phone_number_id, body={}, template=template,
            correlation_id=request.correlation_id)
        refused = GraphOutsideWindow(
            f"131047 reported in a failed status webhook for {wamid}", code=131047)
        await self._send_template(original, refused)

    async def _may_send(self, body: dict[str, Any] | None) -> None:
        """Raise :class:`TemplateUnavailable` when ``body`` is a template that is not
        APPROVED (decision 0015); first wait until the statuses are read."""
        key = template_key(body)
        if key is None or self.templates is None:
            return
        if not self.templates.ready.is_set():
            try:
                await asyncio.wait_for(self.templates.ready.wait(), READY_WAIT_S)
            except TimeoutError:
                raise TemplateStatusesNotRead(
                    "the template statuses (wa.templates) are not read yet") from None
        self.templates.check(key)

    def _refused(self, body: dict[str, Any] | None, exc: BaseException) -> None:
        """Meta says the template is paused, disabled or missing: hold the next ones."""
        key = template_key(body)
        if isinstance(exc, GraphTemplateUnavailable) and key and self.templates is not None:
            self.templates.refused(key, exc.code)

    async def _send(self, msg: OutboundMessage) -> SendResult:
        """POST the body, its stored media (if any) uploaded first; when Meta says the
        uploaded id is gone, upload again once."""
        if self.uploads is None:
            return await self.client.send(msg.phone_number_id, msg.body)
        body = await self.uploads.resolve(msg.phone_number_id, msg.body)
        try:
            return await self.client.send(msg.phone_number_id, body)
        except GraphError as exc:
            if not (media_gone(exc) and await self.uploads.forget(msg.phone_number_id, msg.body)):
                raise
            log.info("outbound %s: Meta forgot its media; uploading again", msg.outbound_id)
            body = await self.uploads.resolve(msg.phone_number_id, msg.body)
            return await self.client.send(msg.phone_number_id, body)

    async def on_dead_letter(self, key: bytes | None, value: bytes | None,
                             exc: BaseException) -> None:
        try:
            msg = OutboundMessage.from_bytes(value or b"")
        except RecordError:
            return  # not a message: nothing to report on
        if msg.body.get("status") != "read":
            # Held for its template: not failed for good, released on approval (0015).
            status = "held" if isinstance(exc, TemplateUnavailable) else "failed"
            await self._delivery(msg, status, error=_error_dict(exc))

    async def _delivery(self, msg: OutboundMessage, status: str, *, wamid: str | None = None,
                        error: dict[str, Any] | None = None, source: str = "sender") -> None:
        update = DeliveryUpdate(wa_id=msg.wa_id, status=status, outbound_id=msg.outbound_id,
                                wamid=wamid, at=datetime.now(UTC).isoformat(), source=source,
                                error=error, correlation_id=msg.correlation_id)
        await self.publisher.send(self.delivery_topic, msg.wa_id.encode(), update.to_bytes(),
                                  {h.CORRELATION_ID: msg.correlation_id.encode()})


def _uploads(settings: Settings, ledger: Ledger | MemoryLedger) -> Uploads:
    """Stored media in replies: ids cached in the ledger's database (in memory when dry)."""
    from streams.media.graph import MediaClient
    from streams.media.outbound import MemoryCache, TableCache
    from streams.media.store import from_settings as store_from_settings

    cache = (TableCache(ledger.pool, ledger.schema) if isinstance(ledger, Ledger)
             else MemoryCache())
    return Uploads(MediaClient.from_settings(settings), store_from_settings(settings), cache)


def register(app: Any, settings: Settings, prepare_db: Prepare | None = None) -> Sender:
    """Add the sender agent (``wa.outbound``) to a Faust app; ``prepare_db`` creates the
    ledger's table when it is missing (see :mod:`streams.delivery.ledger`)."""
    outbound = app.topic(settings.topic(topics.OUTBOUND), key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="raw")
    client = client_from_settings(settings)
    dry = isinstance(client, DryRunClient)
    ledger = MemoryLedger() if dry else Ledger(settings, prepare_db)
    # A dry run sends nothing, so it holds nothing either: no template statuses.
    statuses = None if dry else TemplateStatuses(settings.sender.template_unknown == "hold")
    sender = Sender(settings, client, ledger, Pacer.from_settings(settings.sender),
                    FaustPublisher(app), uploads=_uploads(settings, ledger), templates=statuses)
    if statuses is not None:

        @app.task  # type: ignore[untyped-decorator]
        async def template_statuses() -> None:
            await follow(settings, statuses, lambda known: release(settings, known))
    router = FailureRouter(app, settings, sender.process, name="outbound", recovery=False,
                           on_dead_letter=sender.on_dead_letter)

    # One actor per partition: sends to different partitions overlap (a POST takes 100s of
    # ms), while one recipient (one key, one partition) is still served in order.
    # (WASTREAM_SENDER_ISOLATED=0: one actor for all partitions, the benchmark's baseline.)
    isolated = settings.sender.isolated

    # Faust can skip records after a restart (see streams.runtime.holes): the guard reads them.
    guard = holes.install(app, settings, outbound.get_topic_name(), router.handle, "sender",
                          per_partition=isolated)

    @app.agent(outbound, name="wastream.sender",  # type: ignore[untyped-decorator]
               isolated_partitions=isolated)
    async def send_outbound(stream: Any) -> None:
        try:
            await holes.guarded(guard, stream)
        finally:
            # An actor also stops when its partition is revoked; the session and pool are
            # shared by every partition's actor, so close them only when the app stops.
            if getattr(app, "should_stop", False):
                await client.close()
                await ledger.close()
                if sender.uploads is not None:
                    await sender.uploads.store.close()

    return sender


def install(rt: Any) -> Sender:
    """``streams.worker`` hook: the sender agent on the worker's app."""
    return register(rt.app, rt.settings, rt.prepare_db)
