"""Property rentals: list a property, find a place and contact its owner, my listings.

- ``listing``: type → bedrooms → monthly price → place → photo → confirm
  (``RentalListed``, 30 days; renewal asked 3 days before: ``RentalRenewed``);
- ``find``: a place, a price ceiling, minimum bedrooms → up to 10 nearest → details
  with the photo → Contact (``RentalInquiry``);
- ``inquiries``: the inquiry travelling to the owner, the owner's Contact (both get
  the other's wa.me link, ``RentalContacted``), renewal and expiry (``RentalExpired``);
- ``mine``: my listings → mark rented (``RentalRented``) or remove (``RentalRemoved``);
- ``index``: the read model (a ``streams.listings.ListingIndex``); ``events``,
  ``options``, ``kept``, ``catalog`` (en, fr, rw).
"""

from __future__ import annotations

from streams.domains.rentals import inquiries, templates
from streams.domains.rentals.catalog import TEXTS
from streams.domains.rentals.events import EVENTS
from streams.domains.rentals.flow import FLOW
from streams.domains.rentals.index import RentalsIndex
from streams.domains.rentals.options import NAME, RentalsOptions
from streams.engine.domain import Domain, MenuEntry

DOMAIN = Domain(
    name=NAME,
    flows=(FLOW,),
    menu=(MenuEntry("rentals", FLOW.name),),
    texts=TEXTS,
    events=EVENTS,
    handlers=inquiries.HANDLERS,
    timers=inquiries.TIMERS,
    choices=inquiries.CHOICES,
    options=RentalsOptions,
    model=RentalsIndex.from_options,
    templates=templates.TEMPLATES,
)
