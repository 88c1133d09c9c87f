"""What the sender knows of each message template's status, and the release of what it
held (decision 0015).

Every worker follows ``wa.templates`` (compacted; the conversation agent writes it from
Meta's template webhooks, ``wastream templates sync`` from the account's list) with a
plain consumer from the beginning, so a restarted worker rebuilds the statuses in one
read; ``ready`` is set once that read reached the end the topic had at the start, and
the sender waits for it before it decides on a template.

A message that must go as a template whose template is not APPROVED is not sent: the
sender raises :class:`~streams.failure.errors.TemplateUnavailable` (a dead letter of
class ``template_unavailable`` that names the template, its language and status). When a
change approves a template (and once, after the first read), :func:`release` redrives
the open letters held for it, through the dead-letter operations (exactly once across
workers: ``streams.dlq.ops``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas import topics
from schemas.record import RecordError
from schemas.templates import APPROVED, TemplateChange
from streams.failure.errors import TemplateUnavailable
from streams.runtime import faust_internals
from wastream.config import Settings
from wastream.config.kafka import client_args

log = logging.getLogger(__name__)

TemplateKey = tuple[str, str]  # (name, Meta's language code)
UNKNOWN = "UNKNOWN"
#: Meta's refusal of a template → the status it tells (until a webhook says otherwise).
REFUSED_AS = {132001: "MISSING", 132015: "PAUSED", 132016: "DISABLED"}


@dataclass
class Known:
    status: str
    reason: str | None = None
    meta_ts: int | None = None


class TemplateStatuses:
    """Each template's latest status; ``hold_unknown``: a template never reported is
    held (``WASTREAM_TEMPLATE_UNKNOWN=hold``) rather than sent."""

    def __init__(self, hold_unknown: bool = True) -> None:
        self.hold_unknown = hold_unknown
        self.known: dict[TemplateKey, Known] = {}
        self.ready = asyncio.Event()

    def apply(self, change: TemplateChange) -> bool:
        """Fold one change in; True when it makes its template APPROVED (it was not).
        A status older, by Meta's time, than the one held is ignored."""
        if change.kind != "status" or not change.status:
            return False
        key = (change.name, change.language)
        cur = self.known.get(key)
        if (cur is not None and cur.meta_ts is not None and change.meta_ts is not None
                and change.meta_ts < cur.meta_ts):
            return False
        was = cur.status if cur is not None else None
        self.known[key] = Known(change.status, change.reason, change.meta_ts)
        return change.status == APPROVED and was != APPROVED

    def refused(self, key: TemplateKey, code: int | None) -> None:
        """Meta refused ``key`` as paused, disabled or missing (132015/132016/132001):
        hold its next messages too, until a webhook approves it again."""
        status = REFUSED_AS.get(code or 0)
        if status is not None:
            cur = self.known.get(key)
            self.known[key] = Known(status, f"Graph API error {code}",
                                    cur.meta_ts if cur is not None else None)

    def status(self, key: TemplateKey) -> str:
        known = self.known.get(key)
        return known.status if known is not None else UNKNOWN

    def approved(self, key: TemplateKey) -> bool:
        return self.status(key) == APPROVED

    def check(self, key: TemplateKey) -> None:
        """Raise :class:`TemplateUnavailable` unless ``key`` may be sent."""
        status = self.status(key)
        if status == APPROVED or (status == UNKNOWN and not self.hold_unknown):
            return
        known = self.known.get(key)
        why = f" ({known.reason})" if known is not None and known.reason else ""
        raise TemplateUnavailable(
            f"template {key[0]!r} in {key[1]!r} is {status}{why}: not sent, held until "
            "it is APPROVED", template=key, status=status)


def decode(raw: bytes | None) -> TemplateChange | None:
    try:
        return TemplateChange.from_bytes(raw or b"")
    except RecordError:
        return None


Release = Callable[[TemplateStatuses], Awaitable[object]]


async def follow(settings: Settings, statuses: TemplateStatuses,
                 release: Release | None = None) -> None:
    """Keep ``statuses`` up to date from ``wa.templates`` until cancelled (see the
    module docstring); ``release`` runs after the first read and after every batch in
    which a template became APPROVED."""
    topic = settings.topic(topics.TEMPLATES)
    consumer = AIOKafkaConsumer(**client_args(settings.kafka),
                                group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts: set[int] | None = None
        while not parts:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await faust_internals.force_metadata_update(consumer)
                await asyncio.sleep(0.5)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        behind = {tp for tp in tps if ends[tp] > 0}
        approved = False
        while True:
            if not behind and not statuses.ready.is_set():
                statuses.ready.set()
                log.info("template statuses caught up: %d templates", len(statuses.known))
                approved = True  # release what was held while no worker followed
            if approved and statuses.ready.is_set() and release is not None:
                try:
                    await release(statuses)
                except Exception:  # the next approval (or restart) tries again
                    log.exception("releasing the messages held for templates failed")
            approved = False
            batch = await consumer.getmany(timeout_ms=500, max_records=1000)
            for tp, msgs in batch.items():
                for m in msgs:
                    change = decode(m.value)
                    if change is not None and statuses.apply(change):
                        log.info("template %s (%s) approved", change.name, change.language)
                        approved = True
                if msgs and msgs[-1].offset + 1 >= ends.get(tp, 0):
                    behind.discard(tp)
    finally:
        await consumer.stop()


async def release(settings: Settings, statuses: TemplateStatuses) -> list[dict[str, Any]]:
    """Redrive every open ``template_unavailable`` letter whose template is APPROVED now."""
    from streams.dlq.ops import DlqOps

    done = await DlqOps(settings).release_templates(
        lambda key: statuses.approved(key), by="template-approved")
    for res in done:
        log.info("held message %s released: %s", res["dlq_id"], res["result"])
    return done
