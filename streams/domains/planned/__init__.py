"""Services on the main menu that are not built yet: each row answers "coming soon".

A service that gets built becomes its own domain package and takes its row out of
here (its issue says so)."""

from __future__ import annotations

from streams.engine.catalog import Catalog
from streams.engine.domain import Domain, MenuEntry

TEXTS = Catalog(
    {
        "en": {
            "menu.jobs": "Jobs",
            "menu.jobs.desc": "Post or find jobs",
            "menu.rentals": "Property rentals",
            "menu.rentals.desc": "List or find a place",
        },
        "fr": {
            "menu.jobs": "Emplois",
            "menu.jobs.desc": "Publier ou trouver un emploi",
            "menu.rentals": "Locations",
            "menu.rentals.desc": "Publier ou trouver un logement",
        },
        "rw": {
            "menu.jobs": "Akazi",
            "menu.jobs.desc": "Tangaza cyangwa ushake akazi",
            "menu.rentals": "Amazu akodeshwa",
            "menu.rentals.desc": "Tangaza cyangwa ushake inzu",
        },
    }
)

DOMAIN = Domain(
    name="planned",
    menu=(MenuEntry("jobs"), MenuEntry("rentals")),
    texts=TEXTS,
)
