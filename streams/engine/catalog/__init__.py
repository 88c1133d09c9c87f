"""Message catalogs: every prompt the bot sends comes from here (en, fr, rw).

``text(lang, key, **fields)`` falls back to English for a missing key or language,
so a catalog gap degrades to English instead of failing a conversation.
"""

from __future__ import annotations

from streams.engine.catalog import en, fr, rw

LANGUAGES: dict[str, dict[str, str]] = {"en": en.MESSAGES, "fr": fr.MESSAGES, "rw": rw.MESSAGES}
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "Français", "rw": "Ikinyarwanda"}
DEFAULT = "en"

# Words that work in every state and every language (compared casefolded).
MENU_WORDS = frozenset({"menu", "home", "0", "accueil", "ahabanza", "menyu"})
STOP_WORDS = frozenset({"stop", "arrêter", "arreter", "arrêt", "hagarara", "hagarika"})


def text(lang: str, key: str, **fields: object) -> str:
    """The message ``key`` in ``lang`` with ``fields`` filled in."""
    template = LANGUAGES.get(lang, en.MESSAGES).get(key) or en.MESSAGES[key]
    return template.format(**fields) if fields else template
