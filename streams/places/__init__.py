"""Places of Rwanda a user may name (its 30 districts and Kigali's 35 sectors) with
approximate coordinates, and ``resolve``, which finds the one named in free text.

Pure Python, no I/O beyond reading the package's own ``rwanda.json`` once."""

from streams.places.gazetteer import Place, PlaceKind, places
from streams.places.resolve import resolve

__all__ = ["Place", "PlaceKind", "places", "resolve"]
