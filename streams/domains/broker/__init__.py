"""The general broker: a user writes a need in free text, the agent understands it, and
the bot connects the user with a vendor of that service nearby.

- ``need``: the user's flow (``general_broker``, an agent flow);
- ``vendor``: "List my business" (``broker_vendor``) and the rows of
  ``wastream vendors import`` (``imports``), both in the vendor's conversation;
- ``requests``: a need travelling to the vendor and the answer coming back;
- ``index``: the read model of vendors; ``events``; ``options``; ``catalog``.
"""

from __future__ import annotations

from streams.domains.broker import need, requests, templates, vendor
from streams.domains.broker.catalog import TEXTS
from streams.domains.broker.events import EVENTS
from streams.domains.broker.index import VendorIndex
from streams.domains.broker.options import NAME, BrokerOptions
from streams.engine.domain import Domain, MenuEntry

DOMAIN = Domain(
    name=NAME,
    flows=(need.FLOW, vendor.FLOW),
    menu=(MenuEntry("broker", need.FLOW.name),),  # "List my business" is its second button
    texts=TEXTS,
    events=EVENTS,
    handlers={**requests.HANDLERS, "wastream.broker.import": vendor.on_import},
    timers=requests.TIMERS,
    choices=requests.CHOICES,
    on_stop=requests.on_stop,
    options=BrokerOptions,
    model=VendorIndex.from_options,
    templates=templates.TEMPLATES,
)
