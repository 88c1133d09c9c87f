"""Several projector instances split the partitions of one group; when one dies, the
other takes its partitions over from the offsets stored in PostgreSQL."""

from __future__ import annotations

import asyncio
import re

from projections.registry import all_projections
from schemas import topics
from tests.support import projection_data as pd
from tests.support.system import System
from wastream.config import Settings


def _assigned(log: str) -> list[int]:
    return [int(n) for n in re.findall(r"assigned (\d+) partitions", log)]


async def test_two_instances_split_partitions_and_take_over(system: System) -> None:
    system.env_overrides["WASTREAM_PROJECTOR_SESSION_TIMEOUT_MS"] = "6000"
    a = system.start_projector()
    b = system.start_projector()
    first = [pd.inbound(i, f"25078{i % 101:07d}") for i in range(2000)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in first])
    await system.wait_rows("SELECT 1 FROM wa_events", 2000, 60)
    read = {t for p in all_projections(Settings.from_env(system.env)) for t in p.topics}
    total = len(read) * system.partitions  # every partition of every topic projected
    la = lb = 0
    for _ in range(300):  # after the group settles, each instance holds a share
        la = (_assigned(a.tail(400)) or [0])[-1]
        lb = (_assigned(b.tail(400)) or [0])[-1]
        if la + lb == total and 0 < la < total:
            break
        await asyncio.sleep(0.1)
    assert 0 < la < total, (la, lb)
    assert 0 < lb < total, (la, lb)
    assert la + lb == total
    a.kill9()
    second = [pd.inbound(5000 + i, f"25078{i % 101:07d}") for i in range(2000)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in second])
    rows = await system.wait_rows("SELECT event_id FROM wa_events", 4000, 60)
    assert len(rows) == 4000
    assert len({r["event_id"] for r in rows}) == 4000
    assert _assigned(b.tail(400))[-1] == total  # b took everything over
