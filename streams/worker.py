"""``wastream worker``: the Faust worker process, and where its parts are put together.

:func:`build` creates the app (``streams.runtime``) and installs, in order: the
conversation agent and its timers (``streams.agent``), the retry tiers
(``streams.failure``), the sender (``streams.delivery``) and the metrics endpoint.
This is the one module that knows every part; no part imports it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from streams.agent import conversation, timers
from streams.delivery import sender
from streams.domains.rides.index import RidesIndex, follow
from streams.failure import tiers
from streams.runtime import faust_internals, metrics
from streams.runtime.app import Runtime, create_app
from wastream.config import Settings

log = logging.getLogger(__name__)

def build(
    settings: Settings, prepare_db: Callable[[Settings], Awaitable[object]] | None = None
) -> Runtime:
    """The app with every agent of a worker registered (also used by the benchmark).
    ``prepare_db`` creates the tables the worker writes itself when they are missing."""
    rt = create_app(settings)
    rt.prepare_db = prepare_db
    index = RidesIndex(radius_km=rt.opts.radius_km)
    cache = timers.DeadlineCache()
    conversation.install(rt, index, cache)
    timers.install(rt, cache)
    window = max(rt.opts.online_s, rt.opts.search_window_s)

    @rt.app.task  # type: ignore[untyped-decorator]
    async def rides_index() -> None:
        await follow(index, settings, window)

    tiers.install(rt)
    sender.install(rt)
    metrics.install(rt)
    return rt


def run_worker(
    loglevel: str = "info", prepare_db: Callable[[Settings], Awaitable[object]] | None = None
) -> int:
    """Run the worker until SIGTERM/SIGINT; returns the process exit code."""
    settings = Settings.from_env()
    rt = build(settings, prepare_db)
    asyncio.set_event_loop(asyncio.new_event_loop())
    return run_app(rt.app, loglevel)


def run_app(app: Any, loglevel: str) -> int:
    """Run a Faust app's worker in this thread's event loop until SIGTERM/SIGINT."""
    import faust

    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    faust_internals.no_spinner(worker)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
