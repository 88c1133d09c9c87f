"""Listings with a location, a lifetime and an owner, shared by the listing domains
(jobs, rentals, the broker's vendors, the farmers' produce): the values (``model``), a
worker-local index searched by distance (``index``), predicates over domain fields
(``filters``) and parsers of typed amounts (``money``, ``pay``, ``quantity``).

Pure Python: no I/O, no Faust. A domain's read model feeds the index from its events.
"""

from streams.listings.index import ListingIndex, scan
from streams.listings.model import Hit, Listing, Query, Status

__all__ = ["Hit", "Listing", "ListingIndex", "Query", "Status", "scan"]
