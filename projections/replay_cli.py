"""The ``wastream replay`` sub-command's arguments (kept light: the replay machinery is
imported only when the command runs)."""

from __future__ import annotations

import argparse
from typing import Any


def _replay(args: argparse.Namespace) -> int:
    from projections.replay import main

    return main(args)


def add_parser(sub: Any) -> None:
    """Register ``replay`` on the ``wastream`` sub-parsers."""
    p = sub.add_parser(
        "replay", help="rebuild a projection from its topics into a shadow schema, then swap",
        description="Rebuild one projection from a topic position into a shadow schema while the "
        "live one keeps serving, catch up with the live projector, then swap the tables "
        "atomically. Projections: events, webhook_logs, chat_state, interactions, "
        "agent_sessions, outbound, dead_letters, recovery, domain_events.")
    p.add_argument("--projection", required=True, help="the projection to rebuild")
    start = p.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-beginning", action="store_true", help="from the earliest offsets")
    start.add_argument("--from-time", metavar="ISO8601",
                       help="from the first record at or after this time")
    start.add_argument("--from-offset", nargs="+", metavar="TOPIC:PARTITION:OFFSET",
                       help="from these offsets (other partitions: from the beginning)")
    p.add_argument("--to", nargs="+", metavar="ISO8601|TOPIC:PARTITION:OFFSET",
                   help="stop at this time or these offsets (exclusive) instead of catching up")
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=_replay)
