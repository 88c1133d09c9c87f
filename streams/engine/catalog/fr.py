"""Messages en français (mêmes clés que ``en``)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.header": "Menu principal",
    "menu.body": "Bonjour ! Que voulez-vous faire ?",
    "menu.button": "Choisir",
    "menu.section": "Services",
    "menu.language": "Langue",
    "menu.language.desc": "English, Français, Ikinyarwanda",
    "soon": "Ce service arrive bientôt. Voici le menu.",
    "expired": "Votre conversation précédente a expiré.",
    "stop": "Au revoir ! Écrivez quand vous voulez pour recommencer.",
    "reprompt": "Désolé, je n'ai pas compris.",
    "miss3": "Toujours pas ? Vous pouvez revenir au menu.",
    "miss3.button": "Menu principal",
    "apology": "Désolé, un problème est survenu chez nous. Reprenons depuis le menu.",
    "lang.body": "Choisissez votre langue",
    "lang.set": "Langue : français.",
}
