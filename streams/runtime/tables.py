"""Tables whose keys belong to a user: many small records per wa_id, each in the
changelog partition of its owner.

A table keyed ``<owner>\\x00<rest>`` (a parked item ``<wa_id>\\x00<seq>``, a dedupe id
``<wa_id>\\x00<event_id>``) must live in the same changelog partition as the owner's
records on the source topic: Faust gives changelog partition ``p`` to the worker that
owns source partition ``p``, so that is the only place the owner's actor can read it
after a rebalance or a restart. The source topics are keyed by wa_id and partitioned by
murmur2 of the key (aiokafka's default partitioner, used by the ingress and every
producer of ours), so the changelog partition is computed the same way from the owner
part of the key. That also makes a write independent of the event being processed
(Faust's default needs one: the hole guard's sweep and a group settled by a timer have
none).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import faust
from aiokafka.partitioner import murmur2

SEP = "\x00"


def owner(key: Any) -> bytes:
    """The owner part of a table key (the whole key when it has no separator)."""
    if isinstance(key, bytes | bytearray):
        return bytes(key).split(SEP.encode(), 1)[0]
    return str(key).split(SEP, 1)[0].encode()


def owner_partition(key: Any, partitions: int) -> int:
    """The source partition of the key's owner (murmur2, as aiokafka's default)."""
    return int(murmur2(owner(key)) & 0x7FFFFFFF) % partitions


class OwnedTable(faust.Table[Any, Any]):
    """A Faust table whose changelog partition is its owner's source partition."""

    def __init__(self, app: Any, *, owner_partitions: int, **kwargs: Any) -> None:
        # use_partitioner: Faust's RocksDB store then finds a key in whichever partition's
        # store holds it (it files a write under the current event's partition, which may
        # be another user's: a group is written after its events), as for chat_state.
        super().__init__(app, partitions=owner_partitions, use_partitioner=True, **kwargs)
        self.owner_partitions = owner_partitions

    def partition_for_key(self, key: Any) -> int | None:
        return owner_partition(key, self.owner_partitions)


def owned_table(app: Any, name: str, partitions: int, **kwargs: Any) -> Any:
    """Declare an :class:`OwnedTable` on ``app`` (as ``app.Table`` declares a table)."""
    table = OwnedTable(app, name=name, owner_partitions=partitions,
                       beacon=app.tables.beacon, **kwargs)
    return app.tables.add(table)


def local_store(table: Any) -> Any:
    """Where a Faust table keeps its entries on this worker (its store), or the mapping
    itself (a dict in unit tests). A write there sends no changelog record: for a caller
    that produces the changelog record itself (the conversation agent's dedupe entries,
    sent with a group's effects), as Faust's own recovery writes restored records."""
    return getattr(table, "data", table)


T = TypeVar("T")


def scan(table: Any, view: Iterable[T]) -> Iterator[T]:
    """``view`` (the table's ``keys()`` or ``items()``) to read a slice at a time across
    awaits: a RocksDB store's iterators read a snapshot, so they are consumed lazily
    (listing 1,000,000 keys at once holds the event loop ~0.4 s here); the memory store
    is a dict that the agent changes meanwhile, so it is copied (a C-level copy, ~10 ms
    at 1,000,000)."""
    store = local_store(table)
    if isinstance(store, dict) or isinstance(getattr(store, "data", None), dict):
        return iter(list(view))
    return iter(view)
