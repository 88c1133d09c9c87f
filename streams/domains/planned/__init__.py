"""Services on the main menu that are not built yet: each row answers "coming soon".

A service that gets built becomes its own domain package and takes its row out of
here (its issue says so)."""

from __future__ import annotations

from streams.engine.catalog import Catalog
from streams.engine.domain import Domain, MenuEntry

TEXTS = Catalog(
    {
        "en": {
            "menu.farmer": "Farmer market",
            "menu.farmer.desc": "Buy and sell produce",
        },
        "fr": {
            "menu.farmer": "Marché agricole",
            "menu.farmer.desc": "Acheter et vendre des produits",
        },
        "rw": {
            "menu.farmer": "Isoko ry'abahinzi",
            "menu.farmer.desc": "Gura kandi ugurishe umusaruro",
        },
    }
)

DOMAIN = Domain(
    name="planned",
    menu=(MenuEntry("farmer"),),
    texts=TEXTS,
)
