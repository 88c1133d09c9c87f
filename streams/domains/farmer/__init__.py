"""The farmer market: farmers list produce, buyers find it nearby, and a buyer's
interest accepted by the farmer connects them.

- ``market``: the agent flow (``farmer_market``): a need typed in free text or picked,
  what is missing asked (``need``), then the farmer's listing (``sell``) or the buyer's
  search (``buy``);
- ``manage``: "My listings" (``farmer_listings``): update the quantity, or close;
- ``interest``: a buyer's interest travelling to the farmer and the answer coming back;
- ``index``: the read model of live listings; ``events``; ``options``; ``prompts``;
  ``catalog``.
"""

from __future__ import annotations

from streams.domains.farmer import interest, manage, market, templates
from streams.domains.farmer.catalog import TEXTS
from streams.domains.farmer.events import EVENTS
from streams.domains.farmer.index import ProduceIndex
from streams.domains.farmer.options import NAME, FarmerOptions
from streams.engine.domain import Domain, MenuEntry

DOMAIN = Domain(
    name=NAME,
    flows=(market.FLOW, manage.FLOW),
    menu=(MenuEntry("farmer", market.FLOW.name),),  # sell, buy, my listings: its buttons
    texts=TEXTS,
    events=EVENTS,
    handlers=interest.HANDLERS,
    choices=interest.CHOICES,
    options=FarmerOptions,
    model=ProduceIndex.from_options,
    templates=templates.TEMPLATES,
)
