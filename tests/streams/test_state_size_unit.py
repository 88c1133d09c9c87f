"""A stored conversation takes the memory of its JSON, not orjson's working buffer
(which ``orjson.dumps``'s bytes keep allocated: ~4 KB each since orjson 3.12, so that
100,000 conversations held ~390 MB after a burst)."""

from __future__ import annotations

import tracemalloc

from streams.engine import model
from streams.engine.model import Conv

N = 2000


def test_stored_conversations_are_right_sized() -> None:
    convs = [Conv(wa_id=f"2509{i:08d}", flow="menu", step="pick", last_at=1.7e9,
                  deadlines={"idle": 1.7e9 + 3600}, phone_number_id="106540352242922",
                  last_inbound=1_700_000_000) for i in range(N)]
    tracemalloc.start()
    try:
        stored = [c.to_bytes() for c in convs]
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(s.size for s in snapshot.filter_traces(
        [tracemalloc.Filter(True, model.__file__)]).statistics("filename"))
    json_bytes = sum(len(b) for b in stored)
    assert Conv.from_bytes(stored[0], "250900000000") == convs[0]
    # Its length, a 33-byte header and the allocators' rounding (~330 bytes each for
    # ~240 of JSON here), never orjson's 4 KB buffer (~4,150 bytes each without the copy).
    assert held <= 2 * json_bytes, (held // N, json_bytes // N)
