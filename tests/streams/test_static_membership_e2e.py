"""Static group membership (``WASTREAM_STATIC_MEMBERSHIP``, decision 0021): a worker killed
with -9 and restarted under the same ``WASTREAM_WORKER_ID`` replaces its dead self in the
consumer group at once. Real broker, real ``wastream worker`` subprocesses."""

from __future__ import annotations

import re
import time

import pytest

from schemas import topics
from tests.support import conversations as c
from tests.support import kafka as tk

pytestmark = pytest.mark.slow
GENERATION = re.compile(r"generation id (\d+) app consumers id")


async def _hi(system, user: str) -> None:  # type: ignore[no-untyped-def]
    ev = c.text(user, "hi")
    await tk.produce(system.bootstrap, system.topic(topics.INBOUND), [(ev.key, ev.to_bytes())])


async def _replied(system, user: bytes, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``wa.outbound`` has a reply to ``user`` within ``timeout_s`` (a record
    of another user may be there twice: the first "hi" is answered again after the kill
    when its offset was not committed yet)."""
    deadline = time.monotonic() + timeout_s
    recs: list[tk.Record] = []
    while user not in {r.key for r in recs} and time.monotonic() < deadline:
        recs = await system.read(topics.OUTBOUND, min_count=len(recs) + 1,
                                 timeout_s=max(deadline - time.monotonic(), 0.1))
    return user in {r.key for r in recs}


async def test_static_member_restarted_after_kill9_rejoins_without_a_rebalance(  # type: ignore[no-untyped-def]
    system,
) -> None:
    system.env_overrides.update({
        "WASTREAM_SESSION_TIMEOUT_S": "30",
        "WASTREAM_HEARTBEAT_S": "3",
        "WASTREAM_STATIC_MEMBERSHIP": "true",
        "WASTREAM_WORKER_ID": "w1",
    })
    worker = system.start_worker()
    await _hi(system, "250788900001")
    assert await _replied(system, b"250788900001", 60), worker.tail()

    worker.kill9()
    restarted = system.start_worker()
    await _hi(system, "250788900002")
    assert await _replied(system, b"250788900002", 90), restarted.tail(100)
    # The outcome that saves the session timeout: the broker replaced the dead member by
    # its restarted self in the generation it had, where a new (dynamic) member makes the
    # group rebalance into generation 2 once the dead one's session has expired.
    generations = {int(g) for g in GENERATION.findall(restarted.log.read_text(errors="replace"))}
    assert generations == {1}, (generations, restarted.tail(100))
