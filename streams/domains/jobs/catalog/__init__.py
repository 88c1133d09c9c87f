"""The jobs domain's texts (en, fr, rw) and the helpers its flows speak with."""

from __future__ import annotations

from streams.domains.jobs.catalog import en, fr, rw
from streams.engine.catalog import Catalog

TEXTS = Catalog({"en": en.MESSAGES, "fr": fr.MESSAGES, "rw": rw.MESSAGES})
t = TEXTS.t
say = TEXTS.say
