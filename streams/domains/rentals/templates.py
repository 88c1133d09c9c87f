"""The rentals domain's message templates (decision 0015): an owner told of an inquiry
or asked to renew weeks after listing, a seeker told of the answer; quick replies carry
the interactive buttons' ids (``rentinq:<listing>:<seeker>``, ``rentrenew:<id>``)."""

from __future__ import annotations

from streams.engine.templates import Template

INQUIRY = Template(
    name="rentals_inquiry",
    bodies={
        "en": "New inquiry: {{1}} is interested in your {{2}}. Contact them?",
        "fr": "Nouvelle demande : {{1}} s'intéresse à votre {{2}}. Le contacter ?",
        "rw": "Ubusabe bushya: {{1}} arashaka {{2}} yawe. Wamuvugisha?",
    },
    examples=("Aline", "2-bedroom apartment in Kicukiro"),
    buttons={"en": ("Contact",), "fr": ("Contacter",), "rw": ("Vugana na we",)},
)
ANSWER = Template(
    name="rentals_inquiry_answer",
    bodies={
        "en": "News about the place you asked about: {{1}} Reply to see more.",
        "fr": "Des nouvelles du logement demandé : {{1}} Répondez pour en savoir plus.",
        "rw": "Amakuru ku nzu wabajije: {{1}} Subiza umenye byinshi.",
    },
    examples=("the owner wants to talk to you: https://wa.me/250788000111.",),
)
RENEW = Template(
    name="rentals_renew",
    bodies={
        "en": "Your listing {{1}} expires in {{2}} days. Renew it?",
        "fr": "Votre annonce {{1}} expire dans {{2}} jours. La renouveler ?",
        "rw": "Itangazo ryawe {{1}} rizarangira mu minsi {{2}}. Urarivugurura?",
    },
    examples=("2-bedroom apartment in Kicukiro", "3"),
    buttons={"en": ("Renew",), "fr": ("Renouveler",), "rw": ("Ongera",)},
)
EXPIRED = Template(
    name="rentals_listing_expired",
    bodies={
        "en": "Your listing {{1}} has expired and is no longer shown.",
        "fr": "Votre annonce {{1}} a expiré et n'est plus affichée.",
        "rw": "Itangazo ryawe {{1}} ryararangiye, ntirikigaragara.",
    },
    examples=("2-bedroom apartment in Kicukiro",),
)

TEMPLATES = (INQUIRY, ANSWER, RENEW, EXPIRED)
