"""What the one-shot commands print, read back as a script would: ``migrate --json`` and
the replay plan's ``--json`` parse into what the text says, and ``dlq list`` prints its
table under a header (issue 14, item 7)."""

from __future__ import annotations

import asyncio

import orjson

from schemas import headers as h
from schemas import topics
from streams.failure.errors import PermanentError
from streams.failure.records import Origin, error_headers
from tests.support import kafka as tk
from tests.support import projection_data as pd
from tests.support.failure import event
from tests.support.system import System


async def test_migrate_and_the_replay_plan_print_json(system: System) -> None:
    # The fixture migrated the schema: nothing is left to apply.
    migrated = await asyncio.to_thread(system.cli, "migrate", "--json")
    assert orjson.loads(migrated.stdout) == {"schema": system.schema, "applied": []}

    events = [pd.inbound(i, "250780000002") for i in range(5)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND),
                     [(e.wa_id, e) for e in events])
    planned = await asyncio.to_thread(system.cli, "replay", "--projection", "events",
                                      "--from-beginning", "--dry-run", "--json")
    plan = orjson.loads(planned.stdout)
    assert (plan["projection"], plan["live_schema"], plan["bounded"]) == (
        "events", system.schema, False)
    assert plan["total"] == 5
    assert {p["topic"] for p in plan["partitions"]} == {topics.INBOUND}
    assert sorted(p["partition"] for p in plan["partitions"]) == list(range(system.partitions))
    assert sum(p["records"] for p in plan["partitions"]) == 5
    assert all(p["start"] == 0 and p["records"] == p["end"] for p in plan["partitions"])


async def test_dlq_list_prints_a_table_with_a_header(system: System) -> None:
    origin = Origin(system.topic(topics.INBOUND), 1, 7)
    await tk.produce(system.bootstrap, system.topic(topics.DLQ),
                     [(b"a", event("a", 0).to_bytes())],
                     headers=h.to_headers(error_headers(PermanentError("bad"), origin, 3)))
    listed = await asyncio.to_thread(system.cli, "dlq", "list")
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["DLQ_ID", "STATUS", "TYPE", "ERROR_CLASS", "ATTEMPT", "AGE_S"]
    assert lines[1].split()[:3] == [origin.dlq_id, "open", "message.text"]
    assert lines[-1] == "1 dead letters"
