"""English prompts. Keys are shared by every language; ``{name}`` fields are filled at render."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.header": "Main menu",
    "menu.body": "Hello! What would you like to do?",
    "menu.button": "Choose",
    "menu.section": "Services",
    "menu.language": "Language",
    "menu.language.desc": "English, Français, Ikinyarwanda",
    "soon": "This service is coming soon. Here is the menu.",
    "expired": "Your earlier conversation expired.",
    "stop": "Goodbye! Write any time to start again.",
    "reprompt": "Sorry, I did not understand.",
    "miss3": "Still not it? You can go back to the menu.",
    "miss3.button": "Main menu",
    "apology": "Sorry, something went wrong on our side. Let's start again from the menu.",
    "lang.body": "Choose your language",
    "lang.set": "Language set to English.",
}
