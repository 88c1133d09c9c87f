"""Operating dead letters: list, show, redrive (exactly once), discard, auto-redrive.

Reads Kafka directly (``wa.dlq`` and ``wa.dlq.ops``), so it works whether or not the
projector is running; the ``wa_dead_letter_queue`` projection shows the same facts. A
``DlqOps`` keeps what it has read as an index and reads on from where it stopped
(:class:`LogTail`): the admin API's auto-redrive rounds and every call after the first
read only the records appended since, not both topics in full each time.

Redrive exactly once, durably: every decision is a ``DlqDecision`` keyed by the
``dlq_id`` on ``wa.dlq.ops``, so all decisions on one letter land on one partition in
one total order. A redrive first appends its decision, then reads that partition up to
its own offset: only if its decision is the FIRST one for the letter does it re-publish
the record (to its original topic and partition, with ``wastream.redrive_of`` and a
fresh retry budget), then appends a ``redriven`` mark. A redrive decision without its
mark is pending: its process died between the two steps. Once it is older than
``PENDING_GRACE_S`` (its writer is not merely still publishing), the next redrive of
the letter or auto-redrive round re-publishes it and marks it. The re-published record
is the letter's own bytes (the same event id, the same outbound id), so should the dead
process have published it after all, the copy is a duplicate the agent's dedupe and the
sender's ledger absorb.
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
REDRIVEN = "redriven"  # the mark a redrive appends once the letter is re-published
PENDING = "redrive_pending"  # a redrive decided and (maybe) never re-published
#: How old a redrive decision without its mark must be before another process
#: completes it (its own process may still be publishing it).
PENDING_GRACE_S = 60.0


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
        if not self.decisions:
            return "open"
        first = self.decisions[0]
        if first.action == "redrive" and not any(d.action == REDRIVEN for d in self.decisions):
            return PENDING
        return DONE_STATUS.get(first.action, "decided")

    def pending_for(self, now: float) -> float:
        """Seconds since the pending redrive was decided (0 when not pending)."""
        if self.status != PENDING:
            return 0.0
        try:
            at = datetime.fromisoformat(self.decisions[0].at).timestamp()
        except ValueError:
            return float("inf")
        return max(0.0, now - at)

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
    return await LogTail(settings, topic).read_new(timeout_s)


class LogTail:
    """Every record of a topic, read on from where the last call stopped: each call
    opens a consumer, seeks each partition to the next offset not yet read, reads to
    the end offsets of that moment, and closes it (no consumer outlives a call, so a
    CLI's separate event loops are fine)."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic
        self.next: dict[int, int] = {}  # partition → next offset to read
        self.read_total = 0  # records read so far (a metric for tests)

    async def read_new(self, timeout_s: float = 30.0) -> list[Any]:
        # earliest as well as seek_to_beginning: a "latest" reset racing the seek loses
        # records
        consumer = AIOKafkaConsumer(**client_args(self.settings.kafka),
                                    enable_auto_commit=False, group_id=None,
                                    auto_offset_reset="earliest")
        try:
            await consumer.start()
            # A consumer without a subscription has no metadata of the topic yet: refresh
            # the client's own (a separate ClusterMetadata leaves the fetcher without
            # leaders).
            deadline = time.monotonic() + timeout_s
            parts = consumer.partitions_for_topic(self.topic)
            while not parts and time.monotonic() < deadline:
                await faust_internals.force_metadata_update(consumer)
                parts = consumer.partitions_for_topic(self.topic)
                if not parts:
                    await asyncio.sleep(0.1)
            if not parts:
                raise TimeoutError(f"topic {self.topic} not found")
            tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
            end = await consumer.end_offsets(tps)
            pending = {tp for tp in tps if end[tp] > self.next.get(tp.partition, 0)}
            if not pending:
                return []
            consumer.assign(sorted(pending))  # only these: the others would be read again
            fresh = [tp for tp in pending if tp.partition not in self.next]
            if fresh:
                await consumer.seek_to_beginning(*fresh)
            for tp in pending:
                if tp.partition in self.next:
                    consumer.seek(tp, self.next[tp.partition])
            out: list[Any] = []
            while pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not read {self.topic} to its end in "
                                       f"{timeout_s}s")
                # Done by the end offsets we were handed, not by position(): the fetcher
                # may move the position before getmany returns the records.
                batch = await consumer.getmany(timeout_ms=200)
                for tp, msgs in batch.items():
                    if tp not in pending:
                        continue
                    got = [m for m in msgs if m.offset < end[tp]]
                    out.extend(got)
                    if got:
                        self.next[tp.partition] = got[-1].offset + 1
                    if msgs and msgs[-1].offset + 1 >= end[tp]:
                        self.next[tp.partition] = end[tp]
                        pending.discard(tp)
            out.sort(key=lambda m: (m.partition, m.offset))
            self.read_total += len(out)
            return out
        finally:
            await consumer.stop()


def _already(dec: DlqDecision) -> str:
    return f"already_{DONE_STATUS.get(dec.action, 'decided')}"


class DlqOps:
    """The operations behind ``wastream dlq`` and the admin API."""

    def __init__(self, settings: Settings, pending_grace_s: float = PENDING_GRACE_S) -> None:
        self.settings = settings
        self.dlq = settings.topic(topics.DLQ)
        self.ops = settings.topic(topics.DLQ_OPS)
        self.pending_grace_s = pending_grace_s
        # The index: letters by id, every decision by letter id (in log order), and
        # where each letter's first decision is on wa.dlq.ops.
        self.letters: dict[str, DeadLetter] = {}
        self.decisions: dict[str, list[DlqDecision]] = {}
        self.first_at: dict[str, tuple[int, int]] = {}
        self.dlq_tail = LogTail(settings, self.dlq)
        self.ops_tail = LogTail(settings, self.ops)

    async def load(self) -> dict[str, DeadLetter]:
        """The index, brought up to the end of both topics (reading only what is new)."""
        for m in await self.dlq_tail.read_new():
            hdrs = {k: bytes(v) for k, v in (m.headers or ())}
            dlq_id = hdrs.get(h.DLQ_ID, b"").decode() or f"{self.dlq}:{m.partition}:{m.offset}"
            letter = self.letters.get(dlq_id)
            if letter is not None:
                letter.copies += 1  # at-least-once: a crash may dead-letter twice
                continue
            self.letters[dlq_id] = DeadLetter(
                dlq_id, m.key, m.value, hdrs, m.partition, m.offset, m.timestamp,
                decisions=self.decisions.setdefault(dlq_id, []))
        for m in await self.ops_tail.read_new():
            dec = DlqDecision.from_bytes(m.value or b"{}")
            self.decisions.setdefault(dec.dlq_id, []).append(dec)
            self.first_at.setdefault(dec.dlq_id, (m.partition, m.offset))
        return self.letters

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
        await self.load()  # up to (at least) our own decision
        if self.first_at.get(dlq_id) == (meta.partition, meta.offset):
            return None
        return self.decisions[dlq_id][0]

    async def _producer(self) -> AIOKafkaProducer:
        p = AIOKafkaProducer(**client_args(self.settings.kafka),
                             acks="all", enable_idempotence=True)
        await p.start()
        return p

    async def redrive(self, dlq_id: str, by: str = "cli", reason: str = "") -> dict[str, Any]:
        """Re-publish a letter to its original topic once; a second call does nothing
        (except complete a redrive whose process died before re-publishing)."""
        letter = (await self.load()).get(dlq_id)
        if letter is None:
            return {"dlq_id": dlq_id, "result": "not_found"}
        if letter.status == PENDING:
            if letter.pending_for(time.time()) < self.pending_grace_s:
                return {"dlq_id": dlq_id, "result": PENDING}
            producer = await self._producer()
            try:
                return await self._republish(producer, letter, by, completing=True)
            finally:
                await producer.stop()
        if letter.decisions:
            return {"dlq_id": dlq_id, "result": f"already_{letter.status}"}
        producer = await self._producer()
        try:
            earlier = await self._decide(producer, dlq_id, "redrive", by, reason)
            if earlier is not None:
                return {"dlq_id": dlq_id, "result": _already(earlier)}
            return await self._republish(producer, letter, by)
        finally:
            await producer.stop()

    async def _republish(self, producer: AIOKafkaProducer, letter: DeadLetter, by: str,
                         completing: bool = False) -> dict[str, Any]:
        """The second step of a redrive: the letter to its original topic, then the mark
        that says it went (without the mark the redrive stays pending)."""
        target = letter.hdr(h.ORIGINAL_TOPIC) or self.settings.topic(topics.INBOUND)
        part = letter.hdr(h.ORIGINAL_PARTITION)
        hdrs = [(k, v) for k, v in letter.headers.items() if not k.startswith("wastream.")]
        hdrs.append((h.REDRIVE_OF, letter.dlq_id.encode()))
        meta = await producer.send_and_wait(target, key=letter.key, value=letter.value,
                                            partition=int(part) if part.isdigit() else None,
                                            headers=hdrs)
        mark = DlqDecision(dlq_id=letter.dlq_id, action=REDRIVEN, by=by,
                           reason="completed a pending redrive" if completing else "",
                           at=datetime.now(UTC).isoformat())
        await producer.send_and_wait(self.ops, key=letter.dlq_id.encode(), value=mark.to_bytes())
        letter.decisions.append(mark)
        return {"dlq_id": letter.dlq_id, "result": "redriven",
                "to": f"{target}:{meta.partition}:{meta.offset}"}

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
        DLQ processor; off unless WASTREAM_DLQ_AUTO_REDRIVE_S is set or called), and
        complete every pending redrive past its grace."""
        done = []
        now = time.time()
        for letter in list((await self.load()).values()):
            if letter.status == PENDING and letter.pending_for(now) >= self.pending_grace_s:
                res = await self.redrive(letter.dlq_id, by="auto-redrive")
            elif (letter.status == "open" and letter.age_s >= cooldown_s
                  and letter.hdr(h.ERROR_KIND) == "transient"):
                res = await self.redrive(letter.dlq_id, by="auto-redrive",
                                         reason=f"transient, older than {cooldown_s}s")
            else:
                continue
            # The letter's ids, for the log line of each redrive.
            done.append({**res, "correlation_id": letter.hdr(h.CORRELATION_ID) or None,
                         "event_id": letter.event_id})
        return done
