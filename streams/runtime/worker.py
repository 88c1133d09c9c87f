"""``wastream worker``: the Faust worker process.

Agents are registered by the modules in ``AGENT_MODULES`` (each has an
``install(rt, ...)``); the failure-handling work adds its tier consumers and sender
to that list. The business domains come from the registry (``streams/domains``) and
WASTREAM_EXTRA_DOMAINS; one that cannot be loaded stops the worker (exit code 2).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from streams import domains as registry
from streams.agent import conversation, timers
from streams.engine.domain import DomainError
from streams.engine.domains import Domains
from streams.runtime.app import Runtime, create_app
from streams.runtime.read_models import follow
from wastream.config import Settings

log = logging.getLogger(__name__)

# Other areas' agents: module paths whose ``install(rt)`` registers them on the app.
AGENT_MODULES: list[str] = [
    "streams.failure.tiers",
    "streams.delivery.sender",
    "streams.runtime.metrics",
]


def build(settings: Settings) -> Runtime:
    """The app with every agent of a worker registered (also used by the benchmark);
    DomainError when a domain cannot be loaded."""
    domains = Domains.load(registry.paths(settings.extra), settings.extra)
    rt = create_app(settings)
    cache = timers.DeadlineCache()
    conversation.install(rt, domains, cache)
    timers.install(rt, cache)
    if domains.models:

        @rt.app.task  # type: ignore[untyped-decorator]
        async def read_models() -> None:
            await follow(domains, settings)

    import importlib

    for path in AGENT_MODULES:
        mod: Any = importlib.import_module(path)
        mod.install(rt)
    return rt


def run_worker(loglevel: str = "info") -> int:
    """Run the worker until SIGTERM/SIGINT; returns the process exit code."""
    settings = Settings.from_env()
    try:
        rt = build(settings)
    except DomainError as exc:
        print(f"wastream worker: {exc}", file=sys.stderr)
        return 2
    asyncio.set_event_loop(asyncio.new_event_loop())
    return run_app(rt.app, loglevel)


def run_app(app: Any, loglevel: str) -> int:
    """Run a Faust app's worker in this thread's event loop until SIGTERM/SIGINT."""
    import faust

    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # At WARNING and above Faust installs a terminal spinner that sets the root logger
    # to DEBUG (so it can spin on every record): every library's debug call then builds
    # a LogRecord, about six per event (measured: ~10% of the worker's CPU).
    worker.spinner = None
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
