"""The broker domain's message templates (decision 0015): a vendor imported from a file
may never have written, so a need reaches them as a template; its quick replies carry
the interactive buttons' ids (``broker:accept:<id>``)."""

from __future__ import annotations

from streams.engine.templates import Template

VENDOR_REQUEST = Template(
    name="broker_vendor_request",
    bodies={
        "en": "New request from {{1}}: {{2}} near {{3}} ({{4}} km away). Need: {{5}}. "
              "Can you help?",
        "fr": "Nouvelle demande de {{1}} : {{2}} près de {{3}} (à {{4}} km). Besoin : {{5}}. "
              "Pouvez-vous aider ?",
        "rw": "Icyifuzo gishya cya {{1}}: {{2}} hafi ya {{3}} (kuri {{4}} km). Ashaka: {{5}}. "
              "Wamufasha?",
    },
    examples=("Aline", "Plumber", "Kimironko", "1.5", "a leaking tap"),
    buttons={"en": ("Accept", "Decline"), "fr": ("Accepter", "Refuser"),
             "rw": ("Emera", "Anga")},
)
REQUEST_CLOSED = Template(
    name="broker_request_closed",
    bodies={
        "en": "The request you were sent is no longer open.",
        "fr": "La demande qui vous a été envoyée n'est plus ouverte.",
        "rw": "Icyifuzo wohererejwe ntikigifunguye.",
    },
)

TEMPLATES = (VENDOR_REQUEST, REQUEST_CLOSED)
