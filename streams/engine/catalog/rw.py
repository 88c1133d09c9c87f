"""Ubutumwa mu Kinyarwanda (same keys as ``en``)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.header": "Ahabanza",
    "menu.body": "Muraho! Murashaka gukora iki?",
    "menu.button": "Hitamo",
    "menu.section": "Serivisi",
    "menu.language": "Ururimi",
    "menu.language.desc": "English, Français, Ikinyarwanda",
    "soon": "Iyi serivisi iraza vuba. Dore ahabanza.",
    "expired": "Ikiganiro cyawe cya mbere cyarangiye.",
    "stop": "Murabeho! Mwandike igihe cyose mushaka kongera gutangira.",
    "reprompt": "Mbabarira, sinumvise.",
    "miss3": "Biracyanze? Ushobora gusubira ahabanza.",
    "miss3.button": "Ahabanza",
    "apology": "Mbabarira, habaye ikibazo iwacu. Reka dutangire bundi bushya.",
    "lang.body": "Hitamo ururimi",
    "lang.set": "Ururimi: Ikinyarwanda.",
}
