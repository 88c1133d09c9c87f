"""parse_money: the ways amounts of RWF are typed, and everything else refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.listings.money import MAX_RWF, parse_money


@pytest.mark.parametrize(
    ("text", "rwf"),
    [
        # the examples
        ("300k", 300_000),
        ("300,000", 300_000),
        ("300 000 RWF", 300_000),
        ("frw 300000", 300_000),
        ("1.5m", 1_500_000),
        ("RWF 250,000", 250_000),
        # separators, spacing, case, currency on either side
        ("300.000", 300_000),
        ("300'000", 300_000),
        ("300\u00a0000 Frw", 300_000),
        ("300\u202f000", 300_000),
        ("1,250,000", 1_250_000),
        ("  300K  ", 300_000),
        ("300 k", 300_000),
        ("frw300k", 300_000),
        ("300000rwf", 300_000),
        ("Rwf 300,000", 300_000),
        ("5000 Fr", 5_000),
        ("5000 frs", 5_000),
        ("5000 francs", 5_000),
        ("francs 5000", 5_000),
        ("RF 5000", 5_000),
        ("300", 300),
        # decimals and scale words, in en/fr/rw
        ("1,5M", 1_500_000),
        ("2.25 million", 2_250_000),
        ("2 millions", 2_000_000),
        ("1.2 mln", 1_200_000),
        ("3.5k", 3_500),
        ("300 thousand", 300_000),
        ("300 mille", 300_000),
        ("ibihumbi 300", 300_000),
        ("miliyoni 1.5", 1_500_000),
        ("amafaranga 5000", 5_000),
        ("300,00", 300),  # 300.00: a whole number of francs
        ("3.333k", 3_333_000),  # three digits after a separator group thousands
    ],
)
def test_amounts_people_type(text: str, rwf: int) -> None:
    assert parse_money(text) == rwf


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "three hundred thousand",
        "k",
        "rwf",
        "0",
        "0k",
        "-300",
        "1.5",  # 1.5 francs: not a whole number
        "1,50",
        "1.2345k",  # 1234.5 francs
        "1,234.5",
        "12 34",  # a space groups exactly three digits
        "1,23,456",
        "300,0000",
        "1e5",
        "300 rwf rwf",
        "rwf 300 frw",
        "ibihumbi 300k",
        "300kg",
        "5m2",
        "300k per month",  # words around an amount: see parse_pay
        "about 300k",
        "300k!",
        "300 000 000 000 000",  # over MAX_RWF
        "USD 300",
        "$300",
        "300 dollars",
        "ibihumbi",
    ],
)
def test_anything_else_is_none(text: str) -> None:
    assert parse_money(text) is None


def test_the_ceiling() -> None:
    assert parse_money(str(MAX_RWF)) == MAX_RWF
    assert parse_money(str(MAX_RWF + 1)) is None


def grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


@given(
    st.integers(1, MAX_RWF),
    st.sampled_from([",", " ", ".", "\u00a0", ""]),
    st.sampled_from(["{} RWF", "RWF {}", "frw {}", "{}", "{}frw", "{} Frw"]),
)
def test_any_amount_written_any_accepted_way_reads_back(n: int, sep: str, form: str) -> None:
    assert parse_money(form.format(grouped(n, sep))) == n


@given(st.integers(1, 10**6), st.sampled_from(["k", "K", " k", " thousand", " mille"]))
def test_thousands_read_back(n: int, suffix: str) -> None:
    assert parse_money(f"{n}{suffix}") == n * 1000


@given(st.text())
def test_never_raises(text: str) -> None:
    result = parse_money(text)
    assert result is None or 0 < result <= MAX_RWF
