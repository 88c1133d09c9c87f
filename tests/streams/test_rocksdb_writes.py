"""Faust's RocksDB store and writes made outside an event (streams/runtime/faust_internals.py
``file_writes_by_key``): the hole guard's sweep and a group settled by a timer write the
tables with no Faust event, and a group writes many users' keys after their events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from streams.runtime import faust_internals
from streams.runtime.tables import SEP, owned_table, owner_partition


def _app(tmp_path: Path) -> Any:
    return faust.App("rocksdb-writes", store="rocksdb://", datadir=str(tmp_path),
                     autodiscover=False, web_enabled=False)


def _filed(store: Any, key: bytes) -> list[int]:
    """The partitions whose database holds the key."""
    return [p for p, db in store._dbs.items() if db.get(key) is not None]


def test_writes_outside_an_event_are_filed_under_the_key_partition(tmp_path: Path) -> None:
    faust_internals.file_writes_by_key()
    app = _app(tmp_path)
    states = app.Table("chat_state", default=None, key_type=bytes, value_type=bytes,
                       partitions=4, use_partitioner=True)
    states.key_serializer = states.value_serializer = "raw"
    seen = owned_table(app, "chat_seen", 4, default=None, key_type=bytes, value_type=bytes)
    seen.key_serializer = seen.value_serializer = "raw"
    parked = owned_table(app, "parked", 4, default=None, key_type=str)
    users = [f"2507886{i:05d}".encode() for i in range(20)]
    for wa_id in users:  # no Faust event is being processed here
        states.data[wa_id] = b"{}"
        seen.data[wa_id + SEP.encode() + b"wamid.X"] = b"[1,0,0]"
        parked.data[f"{wa_id.decode()}{SEP}1"] = "held"
    for wa_id in users:
        home = (murmur2(wa_id) & 0x7FFFFFFF) % 4
        assert owner_partition(wa_id, 4) == home
        assert _filed(states.data, wa_id) == [home]
        assert _filed(seen.data, wa_id + SEP.encode() + b"wamid.X") == [home]
        assert parked.data[f"{wa_id.decode()}{SEP}1"] == "held"
        assert _filed(parked.data, parked.data._encode_key(f"{wa_id.decode()}{SEP}1")) \
            == [home]
    assert len({(murmur2(u) & 0x7FFFFFFF) % 4 for u in users}) > 1  # not one partition
