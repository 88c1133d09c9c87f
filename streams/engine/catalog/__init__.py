"""Message catalogs: every prompt the bot sends comes from one (en, fr, rw).

The engine's own catalog (``GENERIC``: menu frame, stop, re-prompt, language…) lives
here; each domain declares its own ``Catalog`` in its package. ``Catalog.text`` falls
back to English for a missing key or language, so a catalog gap degrades to English
instead of failing a conversation (and ``problems`` lets a test or the loader refuse
gaps before they ship).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from streams.engine import messages as m
from streams.engine.catalog import en, fr, rw

if TYPE_CHECKING:
    from streams.engine.model import Conv

LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "Français", "rw": "Ikinyarwanda"}
DEFAULT = "en"

# Words that work in every state and every language (compared casefolded).
MENU_WORDS = frozenset({"menu", "home", "0", "accueil", "ahabanza", "menyu"})
STOP_WORDS = frozenset({"stop", "arrêter", "arreter", "arrêt", "hagarara", "hagarika"})


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields of a template."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


class Catalog:
    """Texts by language, then key; every language has the keys of English."""

    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        self.messages = messages

    def text(self, lang: str, key: str, **fields: object) -> str:
        """The message ``key`` in ``lang`` with ``fields`` filled in."""
        english = self.messages[DEFAULT]
        template = self.messages.get(lang, english).get(key) or english[key]
        return template.format(**fields) if fields else template

    def t(self, conv: Conv, key: str, **fields: object) -> str:
        """``key`` in the conversation's language."""
        return self.text(conv.lang, key, **fields)

    def say(self, conv: Conv, key: str, **fields: object) -> dict[str, Any]:
        """A text reply from the catalog."""
        return m.text_body(conv.wa_id, self.t(conv, key, **fields))

    def problems(self) -> list[str]:
        """What keeps this catalog from being complete: a language missing, a key
        missing or extra, or placeholders that differ from English's."""
        english = self.messages.get(DEFAULT)
        if english is None:
            return ["no English texts"]
        out = []
        for lang in LANGUAGE_NAMES:
            cat = self.messages.get(lang)
            if cat is None:
                out.append(f"no {lang} texts")
                continue
            out += [f"{lang} lacks {k!r}" for k in sorted(english.keys() - cat.keys())]
            out += [f"{lang} has unknown {k!r}" for k in sorted(cat.keys() - english.keys())]
            out += [
                f"{lang} {k!r} placeholders differ from English"
                for k in sorted(english.keys() & cat.keys())
                if placeholders(cat[k]) != placeholders(english[k])
            ]
        return out


GENERIC = Catalog({"en": en.MESSAGES, "fr": fr.MESSAGES, "rw": rw.MESSAGES})
LANGUAGES: Mapping[str, Mapping[str, str]] = GENERIC.messages


def text(lang: str, key: str, **fields: object) -> str:
    """The engine's message ``key`` in ``lang`` with ``fields`` filled in."""
    return GENERIC.text(lang, key, **fields)
