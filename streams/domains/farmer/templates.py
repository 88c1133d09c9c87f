"""The farmer market's message templates (decision 0015): a farmer told of a buyer's
interest days after listing, a buyer told of the farmer's answer; quick replies carry
the interactive buttons' ids (``produce:accept:<interest>``, ``produce:decline:<interest>``)."""

from __future__ import annotations

from streams.engine.templates import Template

INTEREST = Template(
    name="farmer_interest",
    bodies={
        "en": "A buyer, {{1}}, is interested in your {{2}}. Accept?",
        "fr": "Un acheteur, {{1}}, est intéressé par vos {{2}}. Accepter ?",
        "rw": "Umuguzi, {{1}}, arashaka {{2}} zawe. Urabyemera?",
    },
    examples=("Aline", "beans (200 kg at 800 RWF per kg)"),
    buttons={"en": ("Accept", "Decline"), "fr": ("Accepter", "Refuser"),
             "rw": ("Emera", "Anga")},
)
ANSWER = Template(
    name="farmer_interest_answer",
    bodies={
        "en": "News about the produce you asked for: {{1}} Reply to see more.",
        "fr": "Des nouvelles des produits demandés : {{1}} Répondez pour en savoir plus.",
        "rw": "Amakuru ku musaruro wasabye: {{1}} Subiza umenye byinshi.",
    },
    examples=("the farmer accepted: https://wa.me/250788000111.",),
)

TEMPLATES = (INTEREST, ANSWER)
