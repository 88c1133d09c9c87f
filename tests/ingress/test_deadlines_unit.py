"""The ingress's shared produce deadline: a request not acknowledged in time fails with
ProduceTimeout at its own deadline; answered requests are left alone and leave the queue."""

from __future__ import annotations

import asyncio

import pytest

from ingress.errors import ProduceTimeout
from ingress.sink import Deadlines


async def test_each_unanswered_request_fails_at_its_own_deadline() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(0.2)
    first, answered, later = (loop.create_future() for _ in range(3))
    deadlines.watch(first)
    deadlines.watch(answered)
    await asyncio.sleep(0.1)
    deadlines.watch(later)
    answered.set_result(None)
    await asyncio.sleep(0.15)  # 0.25 s: past the first two deadlines, not the third
    assert isinstance(first.exception(), ProduceTimeout)
    assert answered.result() is None
    assert not later.done()
    await asyncio.sleep(0.1)  # 0.35 s: past the third
    with pytest.raises(ProduceTimeout):
        later.result()
    assert len(deadlines) == 0
    deadlines.close()


async def test_answered_requests_leave_the_queue_without_the_timer() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(60.0)
    for _ in range(1000):
        request: asyncio.Future[None] = loop.create_future()
        deadlines.watch(request)
        request.set_result(None)
    assert len(deadlines) == 1  # only the newest, answered after it was watched
    waiting: asyncio.Future[None] = loop.create_future()
    deadlines.watch(waiting)
    deadlines.close()
    await asyncio.sleep(0)
    assert not waiting.done()  # closing fails nothing: the producers' stop settles them
