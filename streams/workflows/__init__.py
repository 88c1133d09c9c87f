"""The registry of workflows. Adding a workflow = its own module + one line here + its
row in ``menu.ITEMS``."""

from __future__ import annotations

from streams.workflows import rides_requests
from streams.workflows.base import Flow, TimerHandler
from streams.workflows.menu import LANGUAGE_FLOW, MENU_FLOW

FLOWS: dict[str, Flow] = {f.name: f for f in (MENU_FLOW, LANGUAGE_FLOW)}
for _mod in ("rides_drivers", "rides_passengers", "schedule"):
    try:
        _flow = __import__(f"streams.workflows.{_mod}", fromlist=["FLOW"]).FLOW
    except ImportError:  # pragma: no cover - while a flow is being written
        continue
    FLOWS[_flow.name] = _flow

# Timer kinds (the part before ":") → handler, collected from every flow.
TIMERS: dict[str, TimerHandler] = {k: h for f in FLOWS.values() for k, h in f.timers.items()}
TIMERS.update(rides_requests.TIMERS)

__all__ = ["FLOWS", "TIMERS", "rides_requests"]
