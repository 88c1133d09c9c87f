"""The registry of workflows (interim, until the domain seam): every flow and timer kind."""

from __future__ import annotations

from streams.domains.rides import find_drivers, find_passengers, schedule
from streams.domains.rides import requests as rides_requests
from streams.engine.flows import Flow, TimerHandler
from streams.engine.menu import LANGUAGE_FLOW, MENU_FLOW

FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (MENU_FLOW, LANGUAGE_FLOW, find_drivers.FLOW, find_passengers.FLOW, schedule.FLOW)
}

# Timer kinds (the part before ":") → handler, collected from every flow.
TIMERS: dict[str, TimerHandler] = {k: h for f in FLOWS.values() for k, h in f.timers.items()}
TIMERS.update(rides_requests.TIMERS)

__all__ = ["FLOWS", "TIMERS", "rides_requests"]
