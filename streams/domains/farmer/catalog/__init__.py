"""The farmer market's texts (en, fr, rw)."""

from __future__ import annotations

from streams.domains.farmer.catalog import en, fr, rw
from streams.engine.catalog import Catalog

TEXTS = Catalog({"en": en.MESSAGES, "fr": fr.MESSAGES, "rw": rw.MESSAGES})
t = TEXTS.t
say = TEXTS.say
