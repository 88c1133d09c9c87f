"""Listings with a location, a lifetime and an owner, shared by the listing domains
(jobs, rentals, the broker's vendors, the farmers' produce): the values (``model``), a
worker-local index searched by distance (``index``, on a grid: ``grid``, ``geo``),
predicates over domain fields (``filters``) and parsers of what people type (``money``,
``pay``, ``quantity``, on ``numbers``).

Pure Python: no I/O, no Faust. A domain's read model feeds the index from its events.
"""

from streams.listings.index import ListingIndex, scan
from streams.listings.model import Hit, Listing, Query, Status
from streams.listings.money import parse_money
from streams.listings.pay import Pay, Period, parse_pay
from streams.listings.quantity import Quantity, Unit, find_quantity, parse_quantity

__all__ = [
    "Hit",
    "Listing",
    "ListingIndex",
    "Pay",
    "Period",
    "Quantity",
    "Query",
    "Status",
    "Unit",
    "find_quantity",
    "parse_money",
    "parse_pay",
    "parse_quantity",
    "scan",
]
