"""The worker ``bench.scale`` measures: the conversation agent, its timers and the event
loop's watch (as ``bench.workflows.worker``), plus the health endpoint on
``WASTREAM_HEALTH_PORT`` so that the bench reads ``/metrics`` (the loop's longest block)."""

from __future__ import annotations

import asyncio
import sys

from streams import worker
from streams.runtime import metrics
from wastream.config import Settings
from wastream.observability import logs


def main() -> int:
    settings = Settings.from_env()
    logs.configure("WARNING", settings.observability.log_format, "worker")
    rt = worker.build(settings, conversation_only=True)
    metrics.install(rt)
    asyncio.set_event_loop(asyncio.new_event_loop())
    return worker.run_app(rt.app, "warning")


if __name__ == "__main__":
    sys.exit(main())
