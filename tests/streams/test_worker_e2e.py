"""The conversation agent end to end: real broker, real ``wastream worker`` subprocess."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from schemas import topics
from schemas.outbound import OutboundMessage
from schemas.state import StateTransition
from tests.support import conversations as c
from tests.support import kafka as tk


async def test_hi_from_a_new_user_gets_the_main_menu_and_a_state_record(system) -> None:  # type: ignore[no-untyped-def]
    worker = system.start_worker()
    hi = c.text("250788100001", "hi")
    await tk.produce(system.bootstrap, system.topic(topics.INBOUND), [(hi.key, hi.to_bytes())])

    out = await system.read(topics.OUTBOUND, min_count=1, timeout_s=60)
    assert out, f"no reply on wa.outbound; worker log:\n{worker.tail()}"
    msg = OutboundMessage.from_bytes(out[0].value or b"")
    assert msg.outbound_id == f"{hi.event_id}:0"
    assert msg.wa_id == "250788100001"
    assert out[0].key == b"250788100001"
    assert msg.body["type"] == "interactive"
    assert msg.body["interactive"]["type"] == "list"
    ids = c.row_ids(msg.body)
    assert "menu:rides_drivers" in ids
    assert "menu:language" in ids
    assert len(ids) <= 10

    states = await system.read(topics.STATE, min_count=1, timeout_s=30)
    st = StateTransition.from_bytes(states[0].value or b"")
    assert (st.wa_id, st.seq, st.flow, st.step, st.previous_flow) == (
        "250788100001",
        1,
        "menu",
        "main",
        "new",
    )
    assert st.event_id == hi.event_id


def _recovery_table(log: Path, title: str, changelog: str) -> dict[int, int]:
    """Partition -> offset of ``changelog`` in the last table Faust's recovery logged
    under ``title`` ("Highwater for active", "active offsets at start of reading")."""
    rows: dict[int, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if title not in line or not line.startswith("{"):
            continue
        rows, topic = {}, ""
        for row in json.loads(line)["msg"].splitlines():
            cells = [x.strip() for x in row.strip().strip("|").split("|")]
            if len(cells) != 3 or not cells[1].isdigit():
                continue
            topic = topic if cells[0] == "\u3003" else cells[0]
            if topic.endswith(changelog):
                rows[int(cells[1])] = int(cells[2])
    return rows


async def test_rocksdb_store_keeps_the_conversation_across_a_restart(system) -> None:  # type: ignore[no-untyped-def]
    """WASTREAM_TABLE_STORE=rocksdb (rocksdict): the production store, same behaviour."""
    import rocksdict  # noqa: F401 - a dev dependency: a missing one fails, never skips
    system.env_overrides.update(
        {
            "WASTREAM_TABLE_STORE": "rocksdb",
            "WASTREAM_SESSION_TIMEOUT_S": "6",
            "WASTREAM_HEARTBEAT_S": "1",
        }
    )
    worker = system.start_worker()
    u = "250788100002"
    first = [c.text(u, "hi"), c.pick(u, "menu:rides_schedule")]
    await tk.produce(
        system.bootstrap, system.topic(topics.INBOUND), [(e.key, e.to_bytes()) for e in first]
    )
    assert len(await system.read(topics.OUTBOUND, min_count=2, timeout_s=60)) >= 2, worker.tail()
    worker.stop()
    again = system.start_worker()
    tap = c.button(u, "sched:new")
    await tk.produce(system.bootstrap, system.topic(topics.INBOUND), [(tap.key, tap.to_bytes())])
    out = await system.read(topics.OUTBOUND, min_count=3, timeout_s=60)
    last = {OutboundMessage.from_bytes(r.value or b"").outbound_id: r for r in out}
    assert f"{tap.event_id}:0" in last, again.tail()
    body = last[f"{tap.event_id}:0"].json()["body"]
    assert body["interactive"]["type"] == "location_request_message"  # resumed at "pickup"
    ddir = Path(system.env["WASTREAM_HOME"]) / "faust" / f"{system.prefix}wastream"
    assert (ddir / "v1" / "tables" / "chat_state-0.db").is_dir(), list(ddir.rglob("*"))
    # The dedupe table's changelog (written by the agent, not by Faust's table writes)
    # is not replayed: its store recorded how far it was applied, as chat_state's does.
    highwaters = _recovery_table(again.log, "Highwater for active", "chat_seen-changelog")
    starts = _recovery_table(again.log, "active offsets at start of reading",
                             "chat_seen-changelog")
    assert max(highwaters.values()) >= 1, (highwaters, again.tail(100))  # u's two events
    assert starts == highwaters, (starts, highwaters)
    system.stop_all()
    shutil.rmtree(ddir, ignore_errors=True)


async def test_one_actor_per_partition_keeps_every_users_conversation(system) -> None:  # type: ignore[no-untyped-def]
    """WASTREAM_ISOLATED_PARTITIONS=1: each actor has its own group of events to settle;
    every user's two events are answered, in order, across all partitions."""
    system.env_overrides["WASTREAM_ISOLATED_PARTITIONS"] = "1"
    worker = system.start_worker()
    users = [f"2507881002{i:02d}" for i in range(12)]
    first = [c.text(u, "hi") for u in users]
    second = [c.pick(u, "menu:rides_drivers") for u in users]
    await tk.produce(
        system.bootstrap,
        system.topic(topics.INBOUND),
        [(e.key, e.to_bytes()) for e in first + second],
    )
    want = {f"{e.event_id}:0" for e in first + second}
    out = await system.read(topics.OUTBOUND, min_count=len(want), timeout_s=60, settle_s=1)
    got = {OutboundMessage.from_bytes(r.value or b"").outbound_id for r in out}
    assert want <= got, (sorted(want - got), worker.tail())
    states = await system.read(topics.STATE, min_count=2 * len(users), timeout_s=30)
    steps: dict[str, list[tuple[int, str]]] = {}
    for r in states:
        st = StateTransition.from_bytes(r.value or b"")
        steps.setdefault(st.wa_id, []).append((st.seq, st.flow))
    assert {u: [seq for seq, _ in steps[u]] for u in users} == {u: [1, 2] for u in users}
    assert all(steps[u][1][1] == "rides_drivers" for u in users), steps
