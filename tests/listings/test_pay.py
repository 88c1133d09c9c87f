"""parse_pay: the text kept as typed; the amount and the period read when they can be."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.listings.pay import Pay, Period, parse_pay

H, D, W, M = Period.HOUR, Period.DAY, Period.WEEK, Period.MONTH


@pytest.mark.parametrize(
    ("text", "amount", "period"),
    [
        # the examples
        ("5000 per day", 5000, D),
        ("150k/month", 150_000, M),
        ("150 000 RWF", 150_000, None),
        ("2,000 frw/hour", 2000, H),
        ("10k a week", 10_000, W),
        # English
        ("1500 an hour", 1500, H),
        ("1500/h", 1500, H),
        ("1500 / hr", 1500, H),
        ("1500 per hr", 1500, H),
        ("1500 hourly", 1500, H),
        ("4000/d", 4000, D),
        ("4000 a day", 4000, D),
        ("4000 daily", 4000, D),
        ("20k per week", 20_000, W),
        ("20k/wk", 20_000, W),
        ("20k weekly", 20_000, W),
        ("10k every week", 10_000, W),
        ("200k/mo", 200_000, M),
        ("200k a month", 200_000, M),
        ("200k monthly", 200_000, M),
        ("RWF 200,000 per month", 200_000, M),
        # French
        ("3000 par jour", 3000, D),
        ("3000/j", 3000, D),
        ("6000 la journée", 6000, D),
        ("30 000 frw par journée", 30_000, D),
        ("3000 journalier", 3000, D),
        ("2000 de l'heure", 2000, H),
        ("2000 \u00e0 l\u2019heure", 2000, H),  # a typographic apostrophe
        ("2000 par heure", 2000, H),
        ("20 000 par semaine", 20_000, W),
        ("20k hebdomadaire", 20_000, W),
        ("80 000 par mois", 80_000, M),
        ("80k/mois", 80_000, M),
        ("80k mensuel", 80_000, M),
        # Kinyarwanda
        ("5000 ku munsi", 5000, D),
        ("4000 buri munsi", 4000, D),
        ("1000 ku isaha", 1000, H),
        ("15000 ku cyumweru", 15_000, W),
        ("ibihumbi 150 ku kwezi", 150_000, M),
        ("100k mu kwezi", 100_000, M),
        # which amount
        ("5000 per day for 3 days", 5000, D),
        ("per day 5000", 5000, D),
        ("2 people, 5000 frw each", 5000, None),
        ("5000/day or 120k/month", 5000, D),  # the first period named, its amount
        ("Salary: 150k/month, negotiable", 150_000, M),
    ],
)
def test_amount_and_period_read(text: str, amount: int, period: Period | None) -> None:
    assert parse_pay(text) == Pay(text, amount, period)


@pytest.mark.parametrize(
    ("text", "amount", "period"),
    [
        ("", None, None),
        ("negotiable", None, None),
        ("to be discussed", None, None),
        ("paid monthly", None, M),
        ("3 days a week", None, W),  # a bare small number counts days, not francs
        ("2 people 5000 3000", None, None),  # two bare amounts, no period: no guess
        ("5000 frw or 6000 frw", None, None),
        ("0 per day", None, D),
        ("1.5 per day", None, D),  # not a whole number of francs
        ("a lot per day", None, D),
        ("5000 per diem", 5000, None),  # "per diem" is not a period we read
        ("5000 perday", 5000, None),  # glued words are not read
        ("mu kwezi", None, M),
    ],
)
def test_what_cannot_be_read_stays_none(
    text: str, amount: int | None, period: Period | None
) -> None:
    assert parse_pay(text) == Pay(text, amount, period)


def test_the_text_is_kept_exactly_as_typed() -> None:
    typed = "  Pay: 5 000 RWF / day 🙂 "
    assert parse_pay(typed) == Pay(typed, 5000, D)


@given(st.text())
def test_never_raises_and_keeps_the_text(text: str) -> None:
    pay = parse_pay(text)
    assert pay.text == text
    assert pay.amount is None or pay.amount > 0
