"""The rule-based backend: three languages, typos, amounts, places, what is missing, and
the session across turns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.understanding.model import Intent, Understanding, UnderstandingSession
from streams.understanding.rules import RuleBased
from streams.understanding.text import distance, fold, similar, tokens
from tests.support.places import Recorder, resolve

RULES = RuleBased(resolve_place=resolve)


@pytest.mark.parametrize(("text", "category", "place"), [
    ("I need a plumber in Kicukiro", "plumber", "Kicukiro"),
    ("nshaka umufundi w'amazi i Remera", "plumber", "Remera"),
    ("je cherche un électricien à Nyamirambo", "electrician", "Nyamirambo"),
    ("JE CHERCHE UN ELECTRICIEN A NYAMIRAMBO", "electrician", "Nyamirambo"),
    ("Ndashaka umudozi hafi ya Kimironko", "tailor", "Kimironko"),
    ("plumbr needed urgently in remera", "plumber", "Remera"),  # a typo, lower case
    ("elecrtician pls, Kicukiro", "electrician", "Kicukiro"),  # two letters swapped
    ("nkeneye umukanisi i Huye", "mechanic", "Huye"),  # rw, a letter missing
    ("looking for umukanishi at Kimironko", "mechanic", "Kimironko"),  # en + rw
    ("ndashaka electrician i Kicukiro", "electrician", "Kicukiro"),  # rw + en
    ("Moto yanjye yapfuye, nkeneye umukanishi i Remera", "moto_repair", "Remera"),
    ("looking for a watchman for a construction site in Kicukiro", "guard", "Kicukiro"),
])
def test_a_service_need_in_any_language(text: str, category: str, place: str) -> None:
    u = RULES.read(text)
    assert u.intent is Intent.FIND_SERVICE
    assert (u.category, u.place) == (category, place)
    assert (u.lat, u.lon) == (resolve(place).lat, resolve(place).lon)  # type: ignore[union-attr]
    assert u.missing == ()
    assert u.backend == "rules"


@pytest.mark.parametrize(("text", "intent", "crop", "quantity", "unit", "price"), [
    ("ndashaka ibishyimbo 200 kg i Musanze", "buy_produce", "beans", 200, "kg", None),
    ("I want 200kg of beans near Musanze", "buy_produce", "beans", 200, "kg", None),
    ("je vends du maïs 300kg à Huye, 400 frw le kilo", "sell_produce", "maize", 300, "kg", 400),
    ("Ndagurisha ibishyimbo ibiro 300 i Huye, amafaranga 900 ku kilo",
     "sell_produce", "beans", 300, "kg", 900),
    ("selling potatoes 1,500 kg in Musanze at 250 rwf/kg", "sell_produce", "potatoes",
     1500, "kg", 250),
    ("mfite amata litiro 20 i Huye", "sell_produce", "milk", 20, "litre", None),
])
def test_produce_with_amounts(text: str, intent: str, crop: str, quantity: float,
                              unit: str, price: float | None) -> None:
    u = RULES.read(text)
    assert (u.intent.value, u.crop, u.quantity, u.unit, u.price) == \
        (intent, crop, quantity, unit, price)


def test_an_accent_tells_maize_from_but() -> None:
    assert RULES.read("je vends du maïs à Huye").crop == "maize"
    u = RULES.read("je cherche un plombier mais pas cher")
    assert (u.category, u.crop) == ("plumber", None)


def test_what_is_missing_is_what_the_intent_still_needs() -> None:
    assert RULES.read("I need a plumber").missing == ("place",)
    assert RULES.read("anyone in Kicukiro?").missing == ("intent",)
    sell = RULES.read("je vends des haricots à Huye")
    assert sell.missing == ("quantity", "unit", "price")
    # A quantity without a unit misses its unit, even where the intent needs no quantity.
    buy = RULES.read("ndashaka ibishyimbo 200 i Musanze")
    assert (buy.intent, buy.quantity, buy.unit, buy.missing) == \
        (Intent.BUY_PRODUCE, 200, None, ("unit",))


def test_nothing_understood_is_unknown_with_no_confidence() -> None:
    u = RULES.read("hello, good morning")
    assert u == Understanding(backend="rules")
    assert u.missing == ("intent",)


def test_confidence_is_lower_for_typos_and_missing_fields() -> None:
    full = RULES.read("I need a plumber in Kicukiro").confidence
    typo = RULES.read("I need a plumbr in Kicukiro").confidence
    half = RULES.read("I need a plumber").confidence
    assert full == 1.0
    assert 0 < typo < full
    assert 0 < half < full


def test_a_misspelt_word_that_is_a_place_is_the_place() -> None:
    # 'Masaka' is one edit from 'amasaka' (sorghum), 'Kigarama' two from 'kilogarama'.
    u = RULES.read("ndashaka umufundi w'amazi i Masaka")
    assert (u.category, u.crop, u.place) == ("plumber", None, "Masaka")
    u = RULES.read("need an electrician, Kigarama")
    assert (u.category, u.unit, u.place) == ("electrician", None, "Kigarama")
    # Written right, the crop stays a crop.
    assert RULES.read("ndagura amasaka i Musanze").crop == "sorghum"


def test_places_are_asked_after_a_locative_first_and_catalog_words_never() -> None:
    rec = Recorder()
    RuleBased(resolve_place=rec).read("I need a plumber urgently in Gatenga sector")
    assert rec.asked[0] == "Gatenga sector"
    assert "Gatenga" in rec.asked
    assert not {"plumber", "need", "in"} & set(rec.asked)


def test_no_gazetteer_means_no_place() -> None:
    u = RuleBased().read("I need a plumber in Kicukiro")
    assert (u.category, u.place, u.missing) == ("plumber", None, ("place",))


async def test_the_session_completes_across_turns() -> None:
    s = UnderstandingSession()
    s = s.merge(await RULES.understand("I need a plumber", "en", s), latency_ms=3)
    assert s.understood.missing == ("place",)
    s = s.merge(await RULES.understand("Kicukiro", "en", s), latency_ms=2)
    assert (s.understood.intent, s.understood.category, s.understood.place) == \
        (Intent.FIND_SERVICE, "plumber", "Kicukiro")
    assert s.understood.missing == ()
    assert (s.turns, s.backend, s.latency_ms) == (2, "rules", 2)


async def test_a_flow_that_knows_the_intent_reads_bare_produce_as_it() -> None:
    s = UnderstandingSession.start(Intent.SELL_PRODUCE)
    u = await RULES.understand("ibishyimbo ibiro 50 i Huye", "rw", s)
    assert (u.intent, u.crop, u.quantity, u.unit) == (Intent.SELL_PRODUCE, "beans", 50, "kg")
    assert s.merge(u).understood.missing == ("price",)


def test_a_new_intent_starts_a_new_need() -> None:
    s = UnderstandingSession().merge(RULES.read("I need a plumber in Kicukiro"))
    s = s.merge(RULES.read("I want to buy beans"))
    assert (s.understood.intent, s.understood.category, s.understood.crop,
            s.understood.place) == (Intent.BUY_PRODUCE, None, "beans", None)


def test_the_session_is_small_json_and_round_trips() -> None:
    s = UnderstandingSession().merge(RULES.read("je vends du maïs 300kg à Huye, 400 frw le kilo"),
                                     latency_ms=7)
    raw = json.dumps(s.to_json())
    assert len(raw) < 400
    back = UnderstandingSession.from_json(json.loads(raw))
    assert back == s
    assert json.loads(raw)["understood"]["missing"] == []


def test_an_unknown_stored_intent_reads_as_unknown() -> None:
    u = Understanding.from_json({"intent": "rent_a_house", "place": "Huye"})
    assert (u.intent, u.place) == (Intent.UNKNOWN, "Huye")


def test_understanding_checks_its_values() -> None:
    with pytest.raises(ValueError, match="confidence"):
        Understanding(confidence=1.5)
    with pytest.raises(ValueError, match="together"):
        Understanding(lat=1.0)


def test_text_folding_and_distance() -> None:
    assert fold("Électricien À Nyamirambo") == "electricien a nyamirambo"
    assert [t.norm for t in tokens("w'amazi 200kg 1,500")] == ["w", "amazi", "200", "kg", "1,500"]
    assert distance("elecrtician", "electrician", 2) == 1  # a swap is one edit
    assert similar("plumbr", "plumber") == 1
    assert similar("kg", "kgs") is None  # short words must be written right
    assert similar("repainted", "repaint") == 1  # an English ending
    assert similar("wedding", "welding") == 1  # ... which is why 'wedding' is a filler
    assert RULES.read("a dress for a wedding in Remera").category == "tailor"


def test_the_readme_example_runs() -> None:
    readme = (Path(__file__).resolve().parents[2] / "streams" / "understanding" / "README.md")
    code = readme.read_text(encoding="utf-8").split("```python\n")[1].split("```")[0]
    exec(compile(code, str(readme), "exec"), {})  # noqa: S102 - our own README
