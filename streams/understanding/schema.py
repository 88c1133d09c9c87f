"""The understanding as JSON on the wire: the schema a chat-completions backend is asked
to fill (``response_format`` ``json_schema``, strict) and the check of what it sends back.

Strict structured outputs want every property required and ``additionalProperties``
false; an absent value is ``null``. Coordinates and the missing fields are not asked
for: the gazetteer places a name, and what is missing follows from the rest.
"""

from __future__ import annotations

import math
from typing import Any

from streams.understanding.lexicon import Lexicon, lexicon
from streams.understanding.model import Intent, Understanding

SCHEMA_NAME = "understanding"
FIELDS = ("intent", "category", "place", "crop", "quantity", "unit", "price", "confidence")
_MAX_PLACE = 100


class WireError(ValueError):
    """What a backend sent does not fit the schema."""


def _nullable_enum(ids: tuple[str, ...], description: str) -> dict[str, Any]:
    return {"type": ["string", "null"], "enum": [*ids, None], "description": description}


def wire_schema(lex: Lexicon | None = None) -> dict[str, Any]:
    """The JSON schema of an understanding on the wire (the catalogs give the enums)."""
    lex = lex or lexicon()
    number = {"type": ["number", "null"]}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(FIELDS),
        "properties": {
            "intent": {"type": "string", "enum": [i.value for i in Intent],
                       "description": "find_service: the user needs a service provider; "
                       "sell_produce / buy_produce: farm produce; unknown: none of these"},
            "category": _nullable_enum(lex.ids("category"), "the service category, for "
                                       "find_service"),
            "place": {"type": ["string", "null"], "description": "the Rwandan district, "
                      "sector or neighbourhood named, as written"},
            "crop": _nullable_enum(lex.ids("crop"), "the produce, for sell/buy_produce"),
            "quantity": {**number, "description": "how much produce"},
            "unit": _nullable_enum(lex.ids("unit"), "the unit of the quantity"),
            "price": {**number, "description": "price per unit, in RWF"},
            "confidence": {"type": "number", "description": "0 to 1"},
        },
    }


def response_format(lex: Lexicon | None = None) -> dict[str, Any]:
    """The chat-completions ``response_format`` asking for :func:`wire_schema`."""
    return {"type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": wire_schema(lex),
                            "description": "What the user's message asks for."}}


def wire(u: Understanding) -> dict[str, Any]:
    """An understanding as the schema writes it (the stand-in's answers)."""
    return {"intent": u.intent.value, "category": u.category, "place": u.place,
            "crop": u.crop, "quantity": u.quantity, "unit": u.unit, "price": u.price,
            "confidence": u.confidence}


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise WireError(message)


def _enum(data: dict[str, Any], name: str, ids: tuple[str, ...]) -> str | None:
    value = data[name]
    _need(value is None or value in ids, f"{name}: {value!r} is not one of the catalog's ids")
    return value if value is None else str(value)


def _amount(data: dict[str, Any], name: str) -> float | None:
    value = data[name]
    if value is None:
        return None
    _need(isinstance(value, int | float) and not isinstance(value, bool),
          f"{name}: a number or null")
    _need(math.isfinite(value) and value >= 0, f"{name}: a finite number >= 0")
    return float(value)


def from_wire(data: Any, backend: str, lex: Lexicon | None = None) -> Understanding:
    """The understanding ``data`` describes, or :class:`WireError` saying why it is not
    one. ``place`` comes back as written (no coordinates): the caller resolves it."""
    lex = lex or lexicon()
    _need(isinstance(data, dict), "an object")
    keys = set(data)
    _need(keys == set(FIELDS), f"fields {sorted(FIELDS)}, got {sorted(keys)}")
    _need(data["intent"] in tuple(i.value for i in Intent), f"intent: {data['intent']!r}")
    place = data["place"]
    _need(place is None or (isinstance(place, str) and 0 < len(place) <= _MAX_PLACE),
          f"place: a string of 1..{_MAX_PLACE} characters or null")
    confidence = data["confidence"]
    _need(isinstance(confidence, int | float) and not isinstance(confidence, bool)
          and 0 <= confidence <= 1, "confidence: a number within 0..1")
    return Understanding(
        intent=Intent(data["intent"]),
        category=_enum(data, "category", lex.ids("category")),
        place=place, crop=_enum(data, "crop", lex.ids("crop")),
        quantity=_amount(data, "quantity"), unit=_enum(data, "unit", lex.ids("unit")),
        price=_amount(data, "price"), confidence=float(confidence), backend=backend)
