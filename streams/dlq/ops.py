"""Operating dead letters: list, show, redrive (exactly once), discard, auto-redrive.

Reads Kafka directly (``wa.dlq`` and ``wa.dlq.ops``), so it works whether or not the
projector is running; the ``wa_dead_letter_queue`` projection shows the same facts.

Redrive exactly once, durably: every decision is a ``DlqDecision`` keyed by the
``dlq_id`` on ``wa.dlq.ops``, so all decisions on one letter land on one partition in
one total order. A redrive first appends its decision, then reads that partition up to
its own offset: only if its decision is the FIRST one for the letter does it re-publish
the record (to its original topic and partition, with ``wastream.redrive_of`` and a
fresh retry budget). A second redrive, concurrent or years later, finds an earlier
decision and does nothing. (A crash between the decision and the re-publish leaves the
letter marked redriven but not re-published: at most once; ``show`` reveals it, as no
later record carries its ``redrive_of``.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas import headers as h
from schemas import topics
from schemas.dlq import DlqDecision
from schemas.outbound import OutboundMessage
from schemas.record import RecordError
from streams.runtime import faust_internals
from wastream.config import Settings
from wastream.config.kafka import client_args
from wastream.observability import logs

TEMPLATE_UNAVAILABLE = "template_unavailable"  # TemplateUnavailable.error_class
DONE_STATUS = {"redrive": "redriven", "discard": "discarded"}


@dataclass
class DeadLetter:
    """One dead letter (the first copy of its ``dlq_id`` on ``wa.dlq``)."""

    dlq_id: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    dlq_partition: int
    dlq_offset: int
    timestamp_ms: int
    copies: int = 1
    decisions: list[DlqDecision] = field(default_factory=list)

    def hdr(self, name: str) -> str:
        return self.headers.get(name, b"").decode("utf-8", "replace")

    @property
    def type(self) -> str:
        try:
            d = orjson.loads(self.value or b"")
        except orjson.JSONDecodeError:
            return "undecodable"
        if isinstance(d, dict):
            if "type" in d:
                return str(d["type"])
            if "outbound_id" in d:
                return "outbound"
        return "unknown"

    @property
    def event_id(self) -> str | None:
        """The event's id (``event_id``, or an outbound message's ``outbound_id``)."""
        return logs.id_of(self.value)

    @property
    def status(self) -> str:
        return DONE_STATUS.get(self.decisions[0].action, "decided") if self.decisions else "open"

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.timestamp_ms / 1000)

    def summary(self) -> dict[str, Any]:
        return {"dlq_id": self.dlq_id, "status": self.status, "type": self.type,
                "key": (self.key or b"").decode("utf-8", "replace"),
                "error_class": self.hdr(h.ERROR_CLASS), "error_kind": self.hdr(h.ERROR_KIND),
                "error_message": self.hdr(h.ERROR_MESSAGE), "attempt": self.hdr(h.ATTEMPT),
                "original_topic": self.hdr(h.ORIGINAL_TOPIC), "failed_at": self.hdr(h.FAILED_AT),
                "age_s": round(self.age_s, 1), "redrive_of": self.hdr(h.REDRIVE_OF) or None,
                "copies": self.copies, "correlation_id": self.hdr(h.CORRELATION_ID) or None,
                "event_id": self.event_id}

    def detail(self) -> dict[str, Any]:
        d = self.summary()
        try:
            d["value"] = orjson.loads(self.value or b"")
        except orjson.JSONDecodeError:
            d["value_raw"] = (self.value or b"").decode("utf-8", "replace")
        d["error_trace"] = self.hdr(h.ERROR_TRACE)
        d["headers"] = {k: v.decode("utf-8", "replace") for k, v in self.headers.items()
                        if k != h.ERROR_TRACE}
        d["decisions"] = [x.to_dict() for x in self.decisions]
        return d


async def read_all(settings: Settings, topic: str, timeout_s: float = 30.0) -> list[Any]:
    """Every record of ``topic`` up to its current end, ordered by (partition, offset)."""
    # earliest as well as seek_to_beginning: a "latest" reset racing the seek loses records
    consumer = AIOKafkaConsumer(**client_args(settings.kafka),
                                enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    try:
        await consumer.start()
        # A consumer without a subscription has no metadata of the topic yet: refresh the
        # client's own (a separate ClusterMetadata would leave the fetcher without leaders).
        deadline = time.monotonic() + timeout_s
        parts = consumer.partitions_for_topic(topic)
        while not parts and time.monotonic() < deadline:
            await faust_internals.force_metadata_update(consumer)
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await asyncio.sleep(0.1)
        if not parts:
            raise TimeoutError(f"topic {topic} not found")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[Any] = []
        pending = {tp for tp in tps if end[tp] > 0}
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout_s}s")
            # Done by the offsets we were handed, not by position(): the fetcher may move
            # the position before getmany returns the records.
            batch = await consumer.getmany(timeout_ms=200)
            for tp, msgs in batch.items():
                if tp not in pending:
                    continue
                out.extend(m for m in msgs if m.offset < end[tp])
                if msgs and msgs[-1].offset + 1 >= end[tp]:
                    pending.discard(tp)
        out.sort(key=lambda m: (m.partition, m.offset))
        return out
    finally:
        await consumer.stop()


def _already(dec: DlqDecision) -> str:
    return f"already_{DONE_STATUS.get(dec.action, 'decided')}"


class DlqOps:
    """The operations behind ``wastream dlq`` and the admin API."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dlq = settings.topic(topics.DLQ)
        self.ops = settings.topic(topics.DLQ_OPS)

    async def load(self) -> dict[str, DeadLetter]:
        letters: dict[str, DeadLetter] = {}
        for m in await read_all(self.settings, self.dlq):
            hdrs = {k: bytes(v) for k, v in (m.headers or ())}
            dlq_id = hdrs.get(h.DLQ_ID, b"").decode() or f"{self.dlq}:{m.partition}:{m.offset}"
            if dlq_id in letters:
                letters[dlq_id].copies += 1  # at-least-once: a crash may dead-letter twice
                continue
            letters[dlq_id] = DeadLetter(dlq_id, m.key, m.value, hdrs, m.partition, m.offset,
                                         m.timestamp)
        for m in await read_all(self.settings, self.ops):
            dec = DlqDecision.from_bytes(m.value or b"{}")
            if dec.dlq_id in letters:
                letters[dec.dlq_id].decisions.append(dec)
        return letters

    async def list_letters(self, *, type: str | None = None, error_class: str | None = None,
                   min_age_s: float | None = None, max_age_s: float | None = None,
                   status: str | None = None) -> list[dict[str, Any]]:
        out = []
        for letter in (await self.load()).values():
            if type and letter.type != type:
                continue
            if error_class and error_class not in letter.hdr(h.ERROR_CLASS):
                continue
            if min_age_s is not None and letter.age_s < min_age_s:
                continue
            if max_age_s is not None and letter.age_s > max_age_s:
                continue
            if status and letter.status != status:
                continue
            out.append(letter.summary())
        return out

    async def show(self, dlq_id: str) -> dict[str, Any] | None:
        letters = await self.load()
        letter = letters.get(dlq_id)
        if letter is None:
            return None
        d = letter.detail()
        # history: the letter this one is a redrive of, and letters of its own redrives
        d["history"] = [x.summary() for x in letters.values()
                        if x.dlq_id == letter.hdr(h.REDRIVE_OF) or x.hdr(h.REDRIVE_OF) == dlq_id]
        return d

    async def _decide(self, producer: AIOKafkaProducer, dlq_id: str, action: str, by: str,
                      reason: str) -> DlqDecision | None:
        """Append a decision; return the earlier one that wins over it, else None."""
        dec = DlqDecision(dlq_id=dlq_id, action=action, by=by, reason=reason,
                          at=datetime.now(UTC).isoformat())
        meta = await producer.send_and_wait(self.ops, key=dlq_id.encode(), value=dec.to_bytes())
        for m in await read_all(self.settings, self.ops):
            if m.partition != meta.partition or m.offset > meta.offset:
                continue
            first = DlqDecision.from_bytes(m.value or b"{}")
            if first.dlq_id == dlq_id:
                return None if m.offset == meta.offset else first
        return None

    async def _producer(self) -> AIOKafkaProducer:
        p = AIOKafkaProducer(**client_args(self.settings.kafka),
                             acks="all", enable_idempotence=True)
        await p.start()
        return p

    async def redrive(self, dlq_id: str, by: str = "cli", reason: str = "") -> dict[str, Any]:
        """Re-publish a letter to its original topic once; a second call does nothing."""
        letter = (await self.load()).get(dlq_id)
        if letter is None:
            return {"dlq_id": dlq_id, "result": "not_found"}
        if letter.decisions:
            return {"dlq_id": dlq_id, "result": f"already_{letter.status}"}
        producer = await self._producer()
        try:
            earlier = await self._decide(producer, dlq_id, "redrive", by, reason)
            if earlier is not None:
                return {"dlq_id": dlq_id, "result": _already(earlier)}
            target = letter.hdr(h.ORIGINAL_TOPIC) or self.settings.topic(topics.INBOUND)
            part = letter.hdr(h.ORIGINAL_PARTITION)
            hdrs = [(k, v) for k, v in letter.headers.items() if not k.startswith("wastream.")]
            hdrs.append((h.REDRIVE_OF, dlq_id.encode()))
            meta = await producer.send_and_wait(target, key=letter.key, value=letter.value,
                                                partition=int(part) if part.isdigit() else None,
                                                headers=hdrs)
            return {"dlq_id": dlq_id, "result": "redriven",
                    "to": f"{target}:{meta.partition}:{meta.offset}"}
        finally:
            await producer.stop()

    async def discard(self, dlq_id: str, by: str, reason: str) -> dict[str, Any]:
        """Record that a letter is dropped on purpose: who and why."""
        if not reason:
            raise ValueError("a discard needs a reason")
        letter = (await self.load()).get(dlq_id)
        if letter is None:
            return {"dlq_id": dlq_id, "result": "not_found"}
        if letter.decisions:
            return {"dlq_id": dlq_id, "result": f"already_{letter.status}"}
        producer = await self._producer()
        try:
            earlier = await self._decide(producer, dlq_id, "discard", by, reason)
        finally:
            await producer.stop()
        if earlier is not None:
            return {"dlq_id": dlq_id, "result": _already(earlier)}
        return {"dlq_id": dlq_id, "result": "discarded"}

    async def release_templates(self, approved: Callable[[tuple[str, str]], bool],
                                by: str = "template-approved") -> list[dict[str, Any]]:
        """Redrive every open ``template_unavailable`` letter (a message held for its
        template, decision 0015) whose template ``approved`` says may go now."""
        done = []
        for letter in (await self.load()).values():
            if letter.status != "open" or letter.hdr(h.ERROR_CLASS) != TEMPLATE_UNAVAILABLE:
                continue
            name, _, lang = letter.hdr(h.HELD_FOR).partition(":")
            key: tuple[str, str] | None = (name, lang) if name and lang else None
            if key is None:  # held on Meta's answer (132001/132015/132016): the body's
                try:
                    key = OutboundMessage.from_bytes(letter.value or b"").template_key()
                except RecordError:
                    continue
            if key is not None and approved(key):
                done.append(await self.redrive(
                    letter.dlq_id, by=by, reason=f"template {key[0]} ({key[1]}) is APPROVED"))
        return done

    async def auto_redrive(self, cooldown_s: float) -> list[dict[str, Any]]:
        """Redrive every open transient-class letter older than ``cooldown_s`` (the seed's
        DLQ processor; off unless WASTREAM_DLQ_AUTO_REDRIVE_S is set or called)."""
        done = []
        for s in await self.list_letters(status="open", min_age_s=cooldown_s):
            if s["error_kind"] == "transient":
                res = await self.redrive(s["dlq_id"], by="auto-redrive",
                                         reason=f"transient, older than {cooldown_s}s")
                # The letter's ids, for the log line of each redrive.
                done.append({**res, "correlation_id": s["correlation_id"],
                             "event_id": s["event_id"]})
        return done
