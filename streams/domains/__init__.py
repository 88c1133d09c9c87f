"""The registry of workflows (interim, until the domain seam): every flow and timer kind."""

from __future__ import annotations

from streams.domains.rides import find_drivers, find_passengers, schedule
from streams.domains.rides import requests as rides_requests
from streams.engine.flows import Flow, TimerHandler
from streams.engine.menu import LANGUAGE_FLOW, MENU_FLOW
from wastream.config import Group

FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (MENU_FLOW, LANGUAGE_FLOW, find_drivers.FLOW, find_passengers.FLOW, schedule.FLOW)
}

# Timer kinds (the part before ":") → handler, collected from every flow.
TIMERS: dict[str, TimerHandler] = {k: h for f in FLOWS.values() for k, h in f.timers.items()}
TIMERS.update(rides_requests.TIMERS)

# Every domain's option group (wastream.config.components): `wastream config`, the README's
# tables and the worker read them. None yet: the rides options are still Options.from_env's.
OPTION_GROUPS: tuple[type[Group], ...] = ()

__all__ = ["FLOWS", "OPTION_GROUPS", "TIMERS", "rides_requests"]
