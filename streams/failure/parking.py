"""Parked events: the per-key bookkeeping that keeps order per conversation.

While one event of a key is in retry (the *head*), the key's later events are parked
behind it and released in order when the head succeeds or dead-letters. The state
lives in a mapping that in production is a Faust Table (changelogged, so it survives a
worker crash; an :class:`streams.runtime.tables.OwnedTable`, so every record of a key
is in its owner's changelog partition) and in unit tests a dict.

No record grows with the backlog (issue 10): each parked record is a table entry of its
own, and the key's entry holds only counters.

    <key>            {"head": token, "at": [topic, partition, offset] | null,
                      "first": seq, "next": seq, "last": {"topic:partition": offset}}
    <key>\\x00<seq>   one parked record: key, value and headers base64-encoded, and its
                      origin (``topic:partition:offset``)

``at`` is where the head was first read; ``last`` the highest offset appended per source
partition. A key's records arrive in offset order, so a record after the head and at
or below ``last`` was already appended (or appended and released): a redelivery after a
crash, not appended twice. A record at or before the head is appended again: it ran
before the key was parked, and the crash may have lost its effects (the consumers'
own dedupe drops it when they were not lost).

Writes go in an order that a crash can cut anywhere (the records of one key are in one
changelog partition, so what survives is a prefix): an item before the counters that
count it, and an item's deletion before the counter that moves past it. ``first`` may
thus point at an item already deleted; readers skip it.

Every change writes a NEW value, because a Faust Table only changelogs assignments, not
in-place mutations.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from streams.runtime.tables import SEP

Entry = dict[str, Any]
Parked = MutableMapping[str, Any]

#: Parked records per key by default (``WASTREAM_PARKED_MAX``); past it a record is
#: dead-lettered (:class:`streams.failure.errors.ParkedOverflow`), not parked.
DEFAULT_MAX = 10_000


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


@dataclass(frozen=True, slots=True)
class ParkedItem:
    """One record waiting behind its key's head (``seq``: its place in the queue)."""

    origin_id: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    seq: int = -1

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin_id, "topic": self.topic, "partition": self.partition,
                "offset": self.offset, "key": _b64(self.key), "value": _b64(self.value),
                "headers": [[k, _b64(v)] for k, v in self.headers.items()]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any], seq: int = -1) -> ParkedItem:
        return cls(origin_id=str(d["origin"]), topic=str(d["topic"]),
                   partition=int(d["partition"]), offset=int(d["offset"]),
                   key=_unb64(d.get("key")), value=_unb64(d.get("value")),
                   headers={str(k): _unb64(v) or b"" for k, v in d.get("headers") or []},
                   seq=seq)


def item_key(key: str, seq: int) -> str:
    return f"{key}{SEP}{seq}"


def _entry(parked: Parked, key: str) -> Entry | None:
    entry = parked.get(key)
    return None if entry is None else dict(entry)


def head(parked: Parked, key: str) -> str | None:
    """The token the key waits for, or None when the key is not parked."""
    entry = parked.get(key)
    return None if entry is None else str(entry["head"])


def is_parked(parked: Parked, key: str) -> bool:
    return parked.get(key) is not None


def count(parked: Parked, key: str) -> int:
    """How many records the key has parked (at most; deleted ones a crash left counted
    are included until the queue moves past them)."""
    entry = parked.get(key)
    return 0 if entry is None else int(entry["next"]) - int(entry["first"])


def queue(parked: Parked, key: str) -> list[ParkedItem]:
    """Every record parked behind the key's head, in order."""
    entry = parked.get(key)
    if entry is None:
        return []
    items = (parked.get(item_key(key, s)) for s in range(entry["first"], entry["next"]))
    return [ParkedItem.from_json(i, s) for s, i in
            zip(range(entry["first"], entry["next"]), items, strict=True) if i is not None]


def peek(parked: Parked, key: str, n: int) -> list[ParkedItem]:
    """The next ``n`` records to release, in order."""
    entry = parked.get(key)
    out: list[ParkedItem] = []
    if entry is None:
        return out
    for seq in range(int(entry["first"]), int(entry["next"])):
        item = parked.get(item_key(key, seq))
        if item is not None:
            out.append(ParkedItem.from_json(item, seq))
            if len(out) >= n:
                break
    return out


def first(parked: Parked, key: str) -> ParkedItem | None:
    """The next record to release, or None when the queue is empty."""
    items = peek(parked, key, 1)
    return items[0] if items else None


def set_head(parked: Parked, key: str, token: str, at: tuple[str, int, int] | None = None,
             drop_through: str | None = None) -> None:
    """Park the key behind ``token`` (the record first read at ``at``), keeping its
    queue minus its front through ``drop_through``: the records of a release that ran,
    and the one that failed and is now the head."""
    if drop_through is not None:
        remove(parked, key, drop_through)
    entry = _entry(parked, key) or {"first": 0, "next": 0, "last": {}}
    entry["head"] = token
    entry["at"] = list(at) if at is not None else None
    parked[key] = entry


def precedes_or_is_head(parked: Parked, key: str, topic: str, partition: int,
                        offset: int) -> bool:
    """The record at ``topic:partition:offset`` was read at or before the key's head."""
    entry = parked.get(key)
    at = None if entry is None else entry.get("at")
    return at is not None and at[0] == topic and int(at[1]) == partition and offset <= int(at[2])


def appended(parked: Parked, key: str, topic: str, partition: int, offset: int) -> bool:
    """The record at ``topic:partition:offset`` was appended to the key's queue already
    (and may have been released since): it comes after the head and at or below the
    highest offset appended from its partition. A redelivery after a crash."""
    entry = parked.get(key)
    if entry is None or precedes_or_is_head(parked, key, topic, partition, offset):
        return False
    last = (entry.get("last") or {}).get(f"{topic}:{partition}")
    return last is not None and offset <= int(last)


def append(parked: Parked, key: str, item: ParkedItem) -> bool:
    """Park ``item`` at the end of the key's queue; False if it was :func:`appended`
    already or the key is not parked."""
    entry = _entry(parked, key)
    if entry is None or appended(parked, key, item.topic, item.partition, item.offset):
        return False
    tp = f"{item.topic}:{item.partition}"
    last = dict(entry.get("last") or {})
    seq = int(entry["next"])
    parked[item_key(key, seq)] = item.to_json()  # the item before the counters
    last[tp] = max(item.offset, int(last.get(tp, -1)))
    entry.update(next=seq + 1, last=last)
    parked[key] = entry
    return True


def remove(parked: Parked, key: str, through: str, within: int = 1000) -> None:
    """Drop the queue's front through the record ``through`` (released records leave
    the queue in order, a batch at a time), if it is among the first ``within``; the
    key stays parked until :func:`unpark`."""
    items = peek(parked, key, within)
    last = next((i for i, item in enumerate(items) if item.origin_id == through), None)
    if last is None:
        return
    for item in items[: last + 1]:
        del parked[item_key(key, item.seq)]  # the items before the counter
    entry = _entry(parked, key)
    if entry is not None:
        entry["first"] = items[last].seq + 1
        parked[key] = entry


def unpark(parked: Parked, key: str) -> None:
    """Forget the key's head and queue (what is left of it)."""
    entry = parked.get(key)
    if entry is None:
        return
    for seq in range(int(entry["first"]), int(entry["next"])):
        ikey = item_key(key, seq)
        if ikey in parked:
            del parked[ikey]
    del parked[key]

