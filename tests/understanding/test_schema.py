"""The understanding on the wire: the schema strict structured outputs accept, and the
check of what a backend sends back."""

from __future__ import annotations

from typing import Any

import pytest

from streams.understanding.lexicon import lexicon
from streams.understanding.model import Intent
from streams.understanding.rules import RuleBased
from streams.understanding.schema import (
    FIELDS,
    WireError,
    from_wire,
    response_format,
    wire,
    wire_schema,
)


def answer(**changes: Any) -> dict[str, Any]:
    base = wire(RuleBased().read("je vends du maïs 300kg, 400 frw le kilo"))
    return {**base, **changes}


def test_the_schema_is_strict_and_names_the_catalogs() -> None:
    schema = wire_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == list(FIELDS) == list(schema["properties"])
    assert schema["properties"]["category"]["enum"] == [*lexicon().ids("category"), None]
    fmt = response_format()
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "understanding"


def test_what_the_rules_write_reads_back() -> None:
    u = from_wire(answer(), "http")
    assert (u.intent, u.crop, u.quantity, u.unit, u.price, u.backend) == \
        (Intent.SELL_PRODUCE, "maize", 300, "kg", 400, "http")


@pytest.mark.parametrize(("data", "words"), [
    ([], "an object"),
    ({k: v for k, v in answer().items() if k != "price"}, "fields"),
    (answer(extra=1), "fields"),
    (answer(intent="rent_a_house"), "intent"),
    (answer(intent=["sell_produce"]), "intent"),
    (answer(category="astronaut"), "category"),
    (answer(crop="gold"), "crop"),
    (answer(unit="furlong"), "unit"),
    (answer(quantity="300"), "quantity"),
    (answer(quantity=True), "quantity"),
    (answer(price=-5), "price"),
    (answer(price=float("inf")), "price"),
    (answer(confidence=1.5), "confidence"),
    (answer(confidence=None), "confidence"),
    (answer(place=""), "place"),
    (answer(place=7), "place"),
])
def test_anything_off_the_schema_is_refused(data: Any, words: str) -> None:
    with pytest.raises(WireError, match=words):
        from_wire(data, "http")
