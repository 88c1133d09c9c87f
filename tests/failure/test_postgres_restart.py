"""PostgreSQL restarted (``pg_ctl restart -m fast``) while the real worker's sender drains
500 replies to the stand-in Graph API and the projector projects, on a PostgreSQL of
the test's own (the shared one is never touched) and the shared Kafka.

Zero replies reported failed, zero dead letters (none is caused by a connection error),
every reply accepted by the stand-in exactly once (counted, not a set), and nothing
missing from ``wa_outbound_messages``. Prints the counts and the time to recover."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from schemas import headers as h
from schemas.outbound import OutboundMessage
from standins.graph import GraphStub
from tests.support import kafka as tk
from tests.support.pg import ThrowawayPostgres
from tests.support.system import System

pytestmark = pytest.mark.slow

PNID = "106540352242922"
USERS, PER_USER = 100, 5  # 500 replies
# One reply per recipient every 2 s (burst 1): the drain takes ~10 s, long enough for
# the restart to land in the middle of it.
STALL_S = 30.0
PACE = {"WASTREAM_SENDER_RECIPIENT_RATE": "0.5", "WASTREAM_SENDER_RECIPIENT_BURST": "1"}


def reply(wa_id: str, n: int) -> OutboundMessage:
    oid = f"wamid.pg.{wa_id}.{n}:0"
    return OutboundMessage(outbound_id=oid, wa_id=wa_id, phone_number_id=PNID,
                           body={"messaging_product": "whatsapp", "recipient_type": "individual",
                                 "to": wa_id, "type": "text", "text": {"body": oid}})


@pytest.fixture
async def own_pg_system(dev_stack: dict[str, str],
                        throwaway_pg: ThrowawayPostgres) -> AsyncIterator[System]:
    """A system on the shared Kafka and this test's own PostgreSQL."""
    sys_ = System(bootstrap=dev_stack["bootstrap"], database_url=throwaway_pg.url,
                  database_owner_url=throwaway_pg.owner_url)
    await asyncio.to_thread(sys_.create_topics)
    await asyncio.to_thread(sys_.migrate)
    try:
        yield sys_
    finally:
        await sys_.teardown()


async def test_postgres_restart_while_sender_drains_and_projector_projects(
        own_pg_system: System, throwaway_pg: ThrowawayPostgres) -> None:
    system, pg = own_pg_system, throwaway_pg
    stub = await GraphStub().start()
    try:
        system.env_overrides.update({
            "WHATSAPP_GRAPH_URL": stub.url, "WHATSAPP_ACCESS_TOKEN": stub.token,
            "WASTREAM_PROJECTOR_BACKOFF_MAX_S": "1", **PACE})
        msgs = [reply(f"2507881{u:05d}", n) for n in range(PER_USER) for u in range(USERS)]
        ids = [m.outbound_id for m in msgs]
        worker = system.start_worker()
        projector = system.start_projector()
        await tk.produce(system.bootstrap, system.topic("wa.outbound"),
                         [(m.wa_id.encode(), m.to_bytes()) for m in msgs])

        t0 = time.monotonic()
        while len(stub.accepted) < 100:
            assert worker.alive(), worker.tail()
            assert time.monotonic() - t0 < 120, ("the sender never started", worker.tail())
            await asyncio.sleep(0.05)
        before_pid = pg.node.pid()
        restart_at = time.monotonic()
        accepted_at_restart = len(stub.accepted)
        await asyncio.to_thread(pg.restart)
        back_at = time.monotonic()
        assert pg.node.pid() not in (None, before_pid), "the server was not restarted"
        assert accepted_at_restart < len(ids), "drained before the restart: proves nothing"

        # until every reply is accepted, or nothing more is for 30 s (the retry tiers are
        # 1-3 s here: a reply still missing then was dead-lettered or is stuck)
        progress, stalled_since = 0, time.monotonic()
        while (accepted := len({s.body["text"]["body"] for s in stub.accepted})) < len(ids):
            if accepted > progress:
                progress, stalled_since = accepted, time.monotonic()
            elif time.monotonic() - stalled_since > STALL_S:
                break
            await asyncio.sleep(0.2)
        drained_at = time.monotonic()
        rows = await system.wait_rows(
            "SELECT outbound_id, status FROM wa_outbound_messages WHERE status IS NOT NULL",
            len(ids), timeout_s=120)
        await asyncio.sleep(3)  # a late duplicate POST or dead letter has time to show
        deliveries = await system.read("wa.delivery", min_count=len(ids), timeout_s=60,
                                       settle_s=1)
        dlq = await system.read("wa.dlq", min_count=0, timeout_s=10, settle_s=2)

        posts = Counter(s.body["text"]["body"] for s in stub.accepted)
        reports = [d.json() for d in deliveries]
        failed = [d["outbound_id"] for d in reports if d["status"] == "failed"]
        classes = Counter(r.headers.get(h.ERROR_CLASS, b"?").decode() for r in dlq)
        print(f"\npostgres restart: {len(ids)} replies in, restart after "
              f"{accepted_at_restart} accepted, took {back_at - restart_at:.1f}s; drained "
              f"{drained_at - restart_at:.1f}s after it; accepted {len(posts)} distinct, "
              f"{sum(posts.values()) - len(posts)} duplicate POSTs; reported failed "
              f"{len(failed)}; dead letters {dict(classes)}; projected {len(rows)}")

        assert failed == [], f"{len(failed)} replies reported failed, e.g. {failed[:5]}"
        assert dlq == [], f"dead letters: {dict(classes)}"
        assert set(posts) == set(ids), f"{len(set(ids) - set(posts))} replies never accepted"
        assert {o: c for o, c in posts.items() if c > 1} == {}, "accepted more than once"
        assert worker.alive(), worker.tail()
        assert projector.alive(), projector.tail()
        assert {r["outbound_id"] for r in rows} == set(ids)
    finally:
        await stub.stop()
