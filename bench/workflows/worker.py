"""The worker the benchmark measures: the conversation agent (and its timers and the
domains' read models) alone, without the other areas' agents (sender, retry tiers), so that the
number is the conversation agent's."""

from __future__ import annotations

import sys

from streams import worker

if __name__ == "__main__":
    sys.exit(worker.run_worker(loglevel="warning", conversation_only=True))
