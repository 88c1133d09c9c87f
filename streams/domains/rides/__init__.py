"""Rides: nearby drivers (a passenger looks for a driver), nearby passengers (a driver
goes online), ride requests between the two, and scheduled trips.

- ``find_drivers``: the passenger's flow (vehicle → location → drivers → request);
- ``find_passengers``: the driver's flow (vehicle → location → online → offer);
- ``requests``: a request travelling between the passenger's and the driver's
  conversations (internal events, the Accept/Decline buttons, timeouts, stop);
- ``schedule``: book a trip for later, list and cancel, reminders;
- ``index``: the read model of who is around; ``events``: the facts on ``wa.domain``;
  ``options``: timeouts and radius; ``kept``: what outlives a flow change.
"""

from __future__ import annotations

from streams.domains.rides import (
    find_drivers,
    find_passengers,
    kept,
    requests,
    schedule,
    templates,
)
from streams.domains.rides.catalog import TEXTS
from streams.domains.rides.events import EVENTS
from streams.domains.rides.index import RidesIndex
from streams.domains.rides.options import NAME, RidesOptions
from streams.engine.domain import Domain, MenuEntry

DOMAIN = Domain(
    name=NAME,
    flows=(find_drivers.FLOW, find_passengers.FLOW, schedule.FLOW),
    menu=(
        MenuEntry("rides_drivers", find_drivers.FLOW.name),
        MenuEntry("rides_passengers", find_passengers.FLOW.name),
        MenuEntry("rides_schedule", schedule.FLOW.name),
    ),
    texts=TEXTS,
    events=EVENTS,
    handlers=requests.HANDLERS,
    timers=requests.TIMERS,
    choices=requests.CHOICES,
    on_stop=requests.on_stop,
    options=RidesOptions,
    model=RidesIndex.from_options,
    kept=kept.FIELDS,
    templates=templates.TEMPLATES,
)
