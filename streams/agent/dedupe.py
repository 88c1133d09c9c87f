"""The conversation agent's dedupe: an event applied once is never applied again.

An event comes twice in two ways, and each is caught in its own place (decision 0011):

- **A replay.** After a crash Faust re-delivers a partition from its last committed
  offset. Every record has a *place* in its user's order (``streams.failure.router.place``:
  its offset on ``wa.inbound``; a retried record keeps its original offset, a recovery
  event takes the dead letter's), and the failure router runs a user's records in
  increasing place. The conversation record keeps the place of the last event that
  changed it (``Conv.pos``), written in the same record as the state, so a record at or
  before it was applied, atomically with the state it produced.
- **A redelivery**: the same event id at a NEW place (Meta retries a webhook; a timer
  fires twice; a sender replayed after a crash re-emits an internal event). Those ids
  live in a table of their own, ``chat_seen``, one small record per event
  (``<wa_id>\\x00<event_id>`` → ``[expiry, partition, offset]``), sent with the group's
  effects (acknowledged before the states are written), and expired after
  ``WASTREAM_DEDUPE_TTL_S`` (7 days) by a sweep that deletes them (tombstones).

The two writes are two records, and a crash may keep the entry without the state: the
replay of that record then finds an entry whose place IS its own, and the state not
past it: not a duplicate, it is applied (again, from the old state, with the same
deterministic output ids). The other way round cannot come from a crash (the entry is
acknowledged first); a state whose entry is missing anyway (written by an older
version, or replayed after the entry expired) is caught by ``Conv.pos``, and the agent
writes the entry then, before a later record (a redelivery) can run.

Only events that change the conversation are recorded (a delivery status, a reaction,
a stale timer change nothing): running one of those twice repeats effects whose ids
are deterministic, which their consumers already drop.
"""

from __future__ import annotations

import enum
import heapq
import logging
import math
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from streams.runtime.tables import SEP, scan

log = logging.getLogger(__name__)


class Verdict(enum.Enum):
    NEW = "new"
    REPLAY = "replay"  # at or before the conversation's place: applied already
    DUPLICATE = "duplicate"  # its id was applied at another place


@dataclass(frozen=True, slots=True)
class Seen:
    """A dedupe entry: until when it holds, and the place of the record that carried
    the event when it was applied."""

    expiry: float
    partition: int
    offset: int

    def to_bytes(self) -> bytes:
        # Not orjson.dumps: the bytes it returns keep its ~4 KB working buffer allocated
        # (measured: 20,000 entries held 79 MB of RSS; formatted, 2 MB).
        return b"[%r,%d,%d]" % (self.expiry, self.partition, self.offset)

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> Seen | None:
        if not raw:
            return None
        expiry, partition, offset = orjson.loads(raw)
        return cls(float(expiry), int(partition), int(offset))


def seen_key(wa_id: str, event_id: str) -> bytes:
    return f"{wa_id}{SEP}{event_id}".encode()


def verdict(pos: list[int] | None, seen: Seen | None, partition: int, offset: int,
            now: float) -> Verdict:
    """Whether the event at ``partition``/``offset`` (its place) must be applied, given
    the conversation's place ``pos`` and the event id's dedupe entry ``seen``."""
    if pos is not None and pos[0] == partition and offset <= pos[1]:
        return Verdict.REPLAY
    if seen is not None and seen.expiry > now and (seen.partition, seen.offset) != (
            partition, offset):
        return Verdict.DUPLICATE
    return Verdict.NEW


class Sweeper:
    """Deletes dedupe entries past their expiry, at most ``batch`` per sweep.

    Entries the agent writes are noted here as they are written; entries restored from
    the changelog are found by :meth:`rescan` (after a rebalance, and now and then) and
    looked at ``batch`` at a time, read from the table only as they are looked at (a
    list of every key at once held the loop for the whole listing: ~0.4 s at 1,000,000
    on RocksDB). An entry is deleted only if the stored one has expired (it may have been
    written again since it was noted)."""

    def __init__(self, table: MutableMapping[bytes, bytes], batch: int = 5000,
                 slot_s: float = 60.0) -> None:
        self.table = table
        self.batch = batch
        # Noted keys by the slot of ``slot_s`` seconds their expiry falls in (rounded
        # up), and a heap of those slots: not a heap of (expiry, key) tuples, a list the
        # garbage collector visits entry by entry (16 ms per collection at 1,000,000;
        # dicts of bytes it leaves alone). An entry goes at most ``slot_s`` late.
        self.slot_s = slot_s
        self._due: dict[int, dict[bytes, None]] = {}
        self._slots: list[int] = []
        self._unscanned: Iterator[bytes] = iter(())
        self.deleted = 0

    def note(self, key: bytes, expiry: float) -> None:
        slot = math.ceil(expiry / self.slot_s)
        bucket = self._due.get(slot)
        if bucket is None:
            bucket = self._due[slot] = {}
            heapq.heappush(self._slots, slot)
        bucket[key] = None

    def rescan(self) -> None:
        self._unscanned = scan(self.table, self.table.keys())

    def _expire(self, key: bytes, now: float) -> bool:
        seen = Seen.from_bytes(self.table.get(key))
        if seen is None:
            return False
        if seen.expiry > now:
            self.note(key, seen.expiry)
            return False
        del self.table[key]
        self.deleted += 1
        return True

    def sweep(self, now: float) -> int:
        """Delete up to ``batch`` expired entries; return how many were deleted."""
        budget, deleted = self.batch, 0
        while budget > 0 and (key := next(self._unscanned, None)) is not None:
            budget -= 1
            deleted += self._expire(key, now)
        while self._slots and self._slots[0] * self.slot_s <= now and budget > 0:
            slot = self._slots[0]
            bucket = self._due[slot]
            while bucket and budget > 0:
                budget -= 1
                key, _ = bucket.popitem()
                deleted += self._expire(key, now)
            if not bucket:
                heapq.heappop(self._slots)
                del self._due[slot]
        return deleted


def install(rt: Any, sweeper: Sweeper) -> None:
    """Sweep every ``WASTREAM_DEDUPE_SWEEP_S`` (60 s); look at every entry again when the
    assignment changes and every ``WASTREAM_DEDUPE_RESCAN_S`` (1 h)."""
    interval = rt.settings.conversation.dedupe_sweep_s
    rescan_s = rt.settings.conversation.dedupe_rescan_s
    state: dict[str, Any] = {"assignment": None, "scanned": 0.0}

    @rt.app.timer(interval=interval, name="dedupe_sweep")  # type: ignore[untyped-decorator]
    async def sweep_dedupe() -> None:
        assignment = frozenset(rt.app.consumer.assignment())
        mono = time.monotonic()
        if assignment != state["assignment"] or mono - state["scanned"] > rescan_s:
            sweeper.rescan()
            state["assignment"], state["scanned"] = assignment, mono
        deleted = sweeper.sweep(time.time())
        if deleted:
            log.info("deleted %d expired dedupe entries", deleted)
