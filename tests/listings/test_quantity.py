"""parse_quantity / find_quantity: a number with its unit, or None when the unit is
missing or unknown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.listings.quantity import MAX_QUANTITY, Quantity, Unit, find_quantity, parse_quantity

KG, T, SACK, L = Unit.KG, Unit.TONNE, Unit.SACK, Unit.LITRE


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        # the examples
        ("200 kg", 200, KG),
        ("5 tonnes", 5, T),
        ("3 sacks", 3, SACK),
        ("10 ibiro", 10, KG),
        ("50kg", 50, KG),
        # every unit word
        ("200 KG", 200, KG),
        ("200 kgs", 200, KG),
        ("1 kilo", 1, KG),
        ("3 kilos", 3, KG),
        ("12 kilograms", 12, KG),
        ("12 kilogrammes", 12, KG),
        ("ibiro 10", 10, KG),
        ("5 t", 5, T),
        ("2.5t", 2.5, T),
        ("2,5 t", 2.5, T),
        ("1 ton", 1, T),
        ("5 tons", 5, T),
        ("1 tonne", 1, T),
        ("toni 2", 2, T),
        ("3 toni", 3, T),
        ("1 sack", 1, SACK),
        ("4 bags", 4, SACK),
        ("3 Sacs", 3, SACK),
        ("umufuka 1", 1, SACK),
        ("imifuka 3", 3, SACK),
        ("20l", 20, L),
        ("20 L", 20, L),
        ("20 litres", 20, L),
        ("20 liters", 20, L),
        ("litiro 20", 20, L),
        # numbers
        ("1,000 kg", 1000, KG),
        ("1 000 kg", 1000, KG),
        ("1.500 kg", 1500, KG),  # three digits after a separator group thousands
        ("0.5 kg", 0.5, KG),
        ("  200   kg ", 200, KG),
    ],
)
def test_quantities_read(text: str, amount: float, unit: Unit) -> None:
    assert parse_quantity(text) == Quantity(amount, unit)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "200",  # no unit
        "kg",
        "ibiro",
        "5 boxes",
        "5 crates",
        "0 kg",
        "-5 kg",
        "5 kg 3 kg",
        "200 kg beans",
        "kg 200",  # only Kinyarwanda units come first
        "200 kgx",
        "200 tt",
        "five kg",
        f"{MAX_QUANTITY + 1} kg",
        "1,23 kg 4",
    ],
)
def test_anything_else_is_none(text: str) -> None:
    assert parse_quantity(text) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I want 200 kg of beans near Musanze", Quantity(200, KG)),
        ("ndashaka ibiro 50 by'ibishyimbo", Quantity(50, KG)),
        ("Je cherche 3 sacs de maïs", Quantity(3, SACK)),
        ("in 2 days, 30 sacks", Quantity(30, SACK)),
        ("0 kg then 5 kg", Quantity(5, KG)),
        ("beans near Musanze", None),
        ("200 of beans", None),
    ],
)
def test_found_in_free_text(text: str, found: Quantity | None) -> None:
    assert find_quantity(text) == found


@given(st.integers(1, MAX_QUANTITY), st.sampled_from(["kg", " kg", " sacks", " tonnes", "l"]))
def test_whole_quantities_read_back(n: int, unit: str) -> None:
    parsed = parse_quantity(f"{n}{unit}")
    assert parsed is not None
    assert parsed.amount == n


@given(st.text())
def test_never_raises(text: str) -> None:
    for parsed in (parse_quantity(text), find_quantity(text)):
        assert parsed is None or 0 < parsed.amount <= MAX_QUANTITY
