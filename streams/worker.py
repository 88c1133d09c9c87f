"""``wastream worker``: the Faust worker process, and where its parts are put together.

:func:`build` loads the business domains (the registry in ``streams/domains`` plus
``WASTREAM_EXTRA_DOMAINS``; one that cannot be loaded stops the worker, exit code 2),
creates the app (``streams.runtime``) and installs, in order: the conversation agent and
its timers (``streams.agent``), the event loop's watch (``streams.runtime.loopwatch``),
the domains' read models, the retry tiers (``streams.failure``), the sender
(``streams.delivery``), the media downloads (``streams.media``) and the metrics endpoint.
This is the one module that knows every part; no part imports it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from streams import domains as registry
from streams.agent import conversation, timers
from streams.delivery import sender
from streams.engine.domain import DomainError
from streams.engine.domains import Domains
from streams.failure import tiers
from streams.media import agent as media
from streams.runtime import faust_internals, loopwatch, metrics
from streams.runtime.app import Runtime, create_app
from streams.runtime.read_models import follow
from wastream.config import Settings
from wastream.observability import logs

log = logging.getLogger(__name__)


def build(
    settings: Settings, prepare_db: Callable[[Settings], Awaitable[object]] | None = None,
    *, conversation_only: bool = False,
) -> Runtime:
    """The app with every agent of a worker registered; DomainError when a domain cannot
    be loaded. ``prepare_db`` creates the tables the worker writes itself when they are
    missing. ``conversation_only`` leaves out the retry tiers, the sender, the media
    agent and the metrics endpoint (``bench.workflows`` measures the agent alone)."""
    domains = Domains.load(registry.paths(settings), settings)
    rt = create_app(settings)
    rt.prepare_db = prepare_db
    cache = timers.DeadlineCache()
    models_ready = asyncio.Event()  # the agent waits until the read models caught up
    conversation.install(rt, domains, cache, models_ready)
    timers.install(rt, cache)
    loopwatch.install(rt)
    if domains.models:

        @rt.app.task  # type: ignore[untyped-decorator]
        async def read_models() -> None:
            await follow(domains, settings, models_ready)
    else:
        models_ready.set()

    if conversation_only:
        return rt
    tiers.install(rt)
    sender.install(rt)
    media.install(rt)
    # The retry tiers' depth is their group's lag, measured with Faust's.
    metrics.install(rt, [rt.settings.group(tiers.GROUP)], tiers.depth_from(rt.settings))
    return rt


def run_worker(
    loglevel: str | None = None,
    prepare_db: Callable[[Settings], Awaitable[object]] | None = None,
    *, conversation_only: bool = False,
) -> int:
    """Run the worker until SIGTERM/SIGINT; returns the process exit code. Logs as every
    service does (``WASTREAM_LOG_FORMAT``), at ``loglevel`` or ``WASTREAM_LOG_LEVEL``."""
    settings = Settings.from_env()
    loglevel = loglevel or settings.observability.log_level
    logs.configure(loglevel, settings.observability.log_format, "worker")
    try:
        rt = build(settings, prepare_db, conversation_only=conversation_only)
    except DomainError as exc:
        print(f"wastream worker: {exc}", file=sys.stderr)
        return 2
    asyncio.set_event_loop(asyncio.new_event_loop())
    return run_app(rt.app, loglevel, stop_timeout_s=settings.worker.stop_timeout_s)


def run_app(app: Any, loglevel: str, stop_timeout_s: float | None = None) -> int:
    """Run a Faust app's worker in this thread's event loop until SIGTERM/SIGINT; with
    ``stop_timeout_s``, exit that long after the signal if it has not stopped by then."""
    import faust

    # Our log lines (configured before): Faust's own set-up would install its colored
    # text handler on the root logger instead.
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, override_logging=False)
    faust_internals.no_spinner(worker)
    if stop_timeout_s is not None:
        faust_internals.stop_deadline(worker, stop_timeout_s)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
