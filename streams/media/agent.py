"""The media agent: downloads each inbound media object into the store and records the
outcome on ``wa.media``.

Per record of ``wa.media.jobs`` (a ``wa.inbound`` envelope of a media message, copied by
:mod:`streams.media.tap`), inside the failure router (``name="media"``, so a failing
download retries through the tiers and dead-letters like any other work):

1. ``GET /{media-id}`` for a fresh URL and Meta's ``file_size``; over the type's limit →
   ``too_large``, nothing downloaded;
2. the bytes, with the token, stopped past the limit (``too_large``);
3. the sha256 and mime type against the webhook's → ``mismatch`` (not stored);
4. into the store → ``stored`` with its key (the sha256, hex).

A transient error (timeout, 5xx, rate limit) raises and is retried; a permanent one
(the media id is gone, the token is refused) is dead-lettered, and the dead letter is
recorded as ``failed``. The conversation never waits for any of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from schemas import headers as h
from schemas import topics
from schemas.envelope import EnvelopeError, InboundEvent
from schemas.media import MediaOutcome
from streams.failure.errors import GraphError, is_transient
from streams.failure.records import FaustPublisher, Origin, Publisher
from streams.failure.router import FailureRouter
from streams.media import limits
from streams.media import store as media_store
from streams.media.graph import MediaClient, TooLarge
from streams.media.store import MediaStore
from streams.media.tap import MediaTap
from streams.runtime import holes
from wastream.config import Settings

log = logging.getLogger(__name__)


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, GraphError):
        return exc.as_dict()
    return {"class": type(exc).__name__, "message": str(exc)[:500],
            "transient": is_transient(exc)}


class Downloader:
    """The ``process`` of the media router (see the module docstring)."""

    def __init__(self, settings: Settings, client: MediaClient, store: MediaStore,
                 publisher: Publisher) -> None:
        self.client = client
        self.store = store
        self.publisher = publisher
        self.topic = settings.topic(topics.MEDIA)

    async def process(self, key: bytes | None, value: bytes | None,
                      headers: Mapping[str, bytes], place: Origin) -> None:
        event = InboundEvent.from_bytes(value or b"")
        declared = limits.Declared.from_message(event.payload)
        if declared is None:
            log.info("media job %s carries no media object; nothing to download",
                     event.event_id)
            return
        info = await self.client.info(declared.media_id)
        if limits.too_large(declared, info.file_size):
            await self._outcome(event, declared, "too_large", size=info.file_size)
            return
        try:
            data, served = await self.client.download(info.url, declared.limit)
        except TooLarge as exc:
            await self._outcome(event, declared, "too_large", size=exc.seen)
            return
        reason = limits.mismatch(declared, data, served or info.mime_type)
        if reason is not None:
            log.warning("media %s of %s refused: %s", declared.media_id, event.event_id, reason)
            await self._outcome(event, declared, "mismatch", size=len(data),
                                error={"class": "Mismatch", "message": reason,
                                       "transient": False})
            return
        stored = await self.store.put(data, limits.base_mime(declared.mime_type))
        await self._outcome(event, declared, "stored", size=len(data), sha256=stored,
                            store_key=stored)

    async def on_dead_letter(self, key: bytes | None, value: bytes | None,
                             exc: BaseException) -> None:
        try:
            event = InboundEvent.from_bytes(value or b"")
        except EnvelopeError:
            return
        declared = limits.Declared.from_message(event.payload)
        if declared is not None:
            await self._outcome(event, declared, "failed", error=_error(exc))

    async def _outcome(self, event: InboundEvent, declared: limits.Declared, status: str, *,
                       size: int | None = None, sha256: str | None = None,
                       store_key: str | None = None,
                       error: dict[str, Any] | None = None) -> None:
        out = MediaOutcome(
            wa_id=event.wa_id, media_id=declared.media_id, status=status, kind=declared.kind,
            event_id=event.event_id, mime_type=declared.mime_type,
            sha256=sha256 or declared.sha256, size=size, store_key=store_key, error=error,
            at=datetime.now(UTC).isoformat(), correlation_id=event.correlation_id)
        log.info("media %s (%s) of %s: %s", declared.media_id, declared.kind, event.event_id,
                 status)
        await self.publisher.send(self.topic, event.wa_id.encode(), out.to_bytes(),
                                  {h.CORRELATION_ID: event.correlation_id.encode()})


def register(app: Any, settings: Settings) -> Downloader | None:
    """Add the media tap (a task) and the media agent (``wa.media.jobs``) to a Faust app;
    None, and nothing added, when downloads are off or no Graph API is configured."""
    client = MediaClient.from_settings(settings)
    if not settings.media.download or client is None:
        log.warning("inbound media is not downloaded (WASTREAM_MEDIA_DOWNLOAD=0 or no "
                    "Graph URL/token): messages keep Meta's media ids only")
        return None
    downloader = Downloader(settings, client, media_store.from_settings(settings),
                            FaustPublisher(app))
    router = FailureRouter(app, settings, downloader.process, name="media", recovery=False,
                           on_dead_letter=downloader.on_dead_letter)
    jobs = app.topic(settings.topic(topics.MEDIA_JOBS), key_type=bytes, value_type=bytes,
                     key_serializer="raw", value_serializer="raw")
    guard = holes.install(app, settings, jobs.get_topic_name(), router.handle, "media",
                          per_partition=True)
    tap = MediaTap(settings)

    @app.task  # type: ignore[untyped-decorator]
    async def _media_tap() -> None:
        try:
            await tap.run()
        finally:
            tap.stop()

    # One actor per partition: downloads of different users overlap, one user's are in order.
    @app.agent(jobs, name="wastream.media",  # type: ignore[untyped-decorator]
               isolated_partitions=True)
    async def download_media(stream: Any) -> None:
        try:
            await holes.guarded(guard, stream)
        finally:
            if getattr(app, "should_stop", False):
                await client.close()
                await downloader.store.close()

    return downloader


def install(rt: Any) -> Downloader | None:
    """``streams.worker`` hook: the media tap and agent on the worker's app."""
    return register(rt.app, rt.settings)
