"""The rides domain's message templates: what its notifications become when their
recipient has not written for 24 hours (decision 0015). Quick replies carry the same
payloads as the interactive buttons (``ride:accept:<id>``), so a tap goes on the flow."""

from __future__ import annotations

from streams.engine.templates import Template

RIDE_REQUEST = Template(
    name="ride_request",
    bodies={
        "en": "A passenger {{1}} km away requests a {{2}} ride. Accept?",
        "fr": "Un passager à {{1}} km demande une course en {{2}}. Accepter ?",
        "rw": "Umugenzi uri kuri {{1}} km arashaka {{2}}. Wemera?",
    },
    examples=("1.2", "moto"),
    buttons={"en": ("Accept", "Decline"), "fr": ("Accepter", "Refuser"),
             "rw": ("Emera", "Anga")},
)
RIDE_OFFER = Template(
    name="ride_offer",
    bodies={
        "en": "A {{1}} driver {{2}} km away offers you a ride. Contact: +{{3}} on WhatsApp.",
        "fr": "Un chauffeur {{1}} à {{2}} km vous propose une course. Contact : +{{3}} "
              "sur WhatsApp.",
        "rw": "Umushoferi wa {{1}} uri kuri {{2}} km arakwifuza. Telefone: +{{3}} kuri "
              "WhatsApp.",
    },
    examples=("moto", "0.8", "250788000111"),
)
RIDE_CLOSED = Template(
    name="ride_request_closed",
    bodies={
        "en": "The ride request you were sent is no longer open.",
        "fr": "La demande de course qui vous a été envoyée n'est plus ouverte.",
        "rw": "Icyifuzo cy'urugendo wohererejwe ntikigifunguye.",
    },
)
TRIP_REMINDER = Template(
    name="trip_reminder",
    bodies={
        "en": "Reminder: your {{1}} trip is at {{2}}. Safe travels!",
        "fr": "Rappel : votre trajet en {{1}} est à {{2}}. Bon voyage !",
        "rw": "Kwibutsa: urugendo rwawe na {{1}} ni saa {{2}}. Urugendo ruhire!",
    },
    examples=("moto", "2026-09-21 08:00"),
)

TEMPLATES = (RIDE_REQUEST, RIDE_OFFER, RIDE_CLOSED, TRIP_REMINDER)
