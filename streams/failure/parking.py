"""Parked events: the per-key bookkeeping that keeps order per conversation.

While one event of a key is in retry (the *head*), the key's later events are parked
behind it and released in order when the head succeeds or dead-letters. The state
lives in a mapping ``key → entry`` that in production is a Faust Table (changelogged,
so it survives a worker crash) and in unit tests a dict. Entries are plain JSON:

    {"head": "<token of the record the key waits for>", "queue": [item, …]}

An item is one parked Kafka record (key, value and headers base64-encoded, and its
origin id ``topic:partition:offset``). Every change writes a NEW entry value, because a
Faust Table only changelogs assignments, not in-place mutations.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

Entry = dict[str, Any]
Parked = MutableMapping[str, Any]


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


@dataclass(frozen=True, slots=True)
class ParkedItem:
    """One record waiting behind its key's head."""

    origin_id: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin_id, "topic": self.topic, "partition": self.partition,
                "offset": self.offset, "key": _b64(self.key), "value": _b64(self.value),
                "headers": [[k, _b64(v)] for k, v in self.headers.items()]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ParkedItem:
        return cls(origin_id=str(d["origin"]), topic=str(d["topic"]),
                   partition=int(d["partition"]), offset=int(d["offset"]),
                   key=_unb64(d.get("key")), value=_unb64(d.get("value")),
                   headers={str(k): _unb64(v) or b"" for k, v in d.get("headers") or []})


def head(parked: Parked, key: str) -> str | None:
    """The token the key waits for, or None when the key is not parked."""
    entry = parked.get(key)
    return None if entry is None else str(entry["head"])


def is_parked(parked: Parked, key: str) -> bool:
    return parked.get(key) is not None


def queue(parked: Parked, key: str) -> list[ParkedItem]:
    entry = parked.get(key)
    return [] if entry is None else [ParkedItem.from_json(i) for i in entry["queue"]]


def set_head(parked: Parked, key: str, token: str, drop_origin: str | None = None) -> None:
    """Park the key behind ``token`` (keeping its queue, minus ``drop_origin``: the record
    that just became the head when it was released from the queue)."""
    entry = parked.get(key)
    items = [] if entry is None else list(entry["queue"])
    if drop_origin is not None:
        items = [i for i in items if i["origin"] != drop_origin]
    parked[key] = {"head": token, "queue": items}


def append(parked: Parked, key: str, item: ParkedItem) -> bool:
    """Park ``item`` at the end of the key's queue; False if it is already there (a
    redelivery after a crash) or the key is not parked."""
    entry = parked.get(key)
    if entry is None:
        return False
    if any(i["origin"] == item.origin_id for i in entry["queue"]):
        return False
    parked[key] = {"head": entry["head"], "queue": [*entry["queue"], item.to_json()]}
    return True


def remove(parked: Parked, key: str, origin_id: str) -> None:
    """Drop a released item from the queue (the key stays parked until :func:`unpark`)."""
    entry = parked.get(key)
    if entry is not None:
        parked[key] = {"head": entry["head"],
                       "queue": [i for i in entry["queue"] if i["origin"] != origin_id]}


def first(parked: Parked, key: str) -> ParkedItem | None:
    entry = parked.get(key)
    if entry is None or not entry["queue"]:
        return None
    return ParkedItem.from_json(entry["queue"][0])


def unpark(parked: Parked, key: str) -> None:
    if key in parked:
        del parked[key]
