"""The test domain through the pure engine (harness): its flow, timer, texts, typed
event, read model, option, kept data and the internal event it sends another user."""

from __future__ import annotations

import pytest

from streams.engine.model import Options
from tests.domains import parrot
from tests.domains.parrot.events import WordLearned
from tests.domains.parrot.flow import ParrotOptions
from tests.domains.parrot.vocabulary import Vocabulary
from tests.support import conversations as c
from tests.support.engine_harness import Harness
from wastream.config import ConfigError

A, B = "250788100001", "250788100002"


def _harness(nap_s: float = 60) -> Harness:
    return Harness(opts=Options(idle_s=10_000), extra=(parrot.DOMAIN,),
                   options={"parrot": ParrotOptions(nap_s=nap_s)})


def test_menu_row_flow_event_read_model_and_a_word_sent_to_a_friend() -> None:
    h = _harness()
    menu = h.say(A, "hi")
    assert c.row_ids(menu[0])[-2:] == ["menu:parrot", "menu:language"]
    assert c.body_text(h.pick(A, "menu:parrot")[0]) == "Teach me a word."
    assert h.say(A, "two words")[0]["text"]["body"] == "Sorry, I did not understand."
    said = h.say(A, "mango")
    assert [c.body_text(b) for b in said] == [
        "Parrot says: mango! 0 others taught me that word.",
        "Who should hear it? Type their number.",
    ]
    assert h.events == [(A, WordLearned(word="mango", lang="en"))]
    assert h.domain[-1] == (A, "WordLearned", {"word": "mango", "lang": "en"})
    assert h.model("parrot", Vocabulary).words == {"mango": {A: h.now}}
    mark = len(h.sent)
    assert c.body_text(h.say(A, f"+{B}")[0]) == "Sent."
    assert [c.body_text(b) for b in h.to(B, mark)] == [f"+{A}'s parrot says: mango"]
    assert (h.conv(A).flow, h.conv(B).flow) == ("menu", "new")  # B's state is untouched
    # another user teaching the same word is told how many others did
    h.say(B, "hi")
    h.pick(B, "menu:parrot")
    assert "1 others taught me" in c.body_text(h.say(B, "Mango")[0])


def test_the_nap_timer_and_the_word_kept_across_flows() -> None:
    h = _harness(nap_s=30)
    h.say(A, "hi")
    h.pick(A, "menu:parrot")
    h.say(A, "mango")
    h.advance(29)
    assert h.conv(A).step == "friend"
    mark = len(h.sent)
    h.advance(2)
    assert [c.body_text(b) for b in h.to(A, mark)] == ["The parrot fell asleep."]
    assert h.conv(A).flow == "menu"
    assert h.conv(A).domains == {"parrot": {"last": "mango"}}
    assert c.body_text(h.pick(A, "menu:parrot")[0]) == (
        "Teach me a word. Last time you taught me mango.")
    h.say(A, "menu")  # left before the nap: the timer that fires later changes nothing
    mark = len(h.sent)
    h.advance(31)
    assert h.to(A, mark) == []


def test_texts_in_french_and_kinyarwanda() -> None:
    for lang, ask in (("fr", "Apprenez-moi un mot."), ("rw", "Nyigisha ijambo.")):
        h = _harness()
        h.say(A, "hi")
        h.pick(A, "menu:language")
        h.tap(A, f"lang:{lang}")
        assert c.body_text(h.pick(A, "menu:parrot")[0]) == ask
        h.say(A, "mango")
        assert h.events[-1][1] == WordLearned(word="mango", lang=lang)


def test_options_from_the_environment_and_listed() -> None:
    assert ParrotOptions.from_env({"WASTREAM_PARROT_NAP_S": "3"}).nap_s == 3.0
    assert ParrotOptions.from_env({"WASTREAM_PARROT_NAP_S": ""}).nap_s == 60.0
    assert [var for var, _, _ in ParrotOptions.env_fields()] == [
        "WASTREAM_PARROT_NAP_S", "WASTREAM_PARROT_MEMORY_S"]
    with pytest.raises(ConfigError, match="WASTREAM_PARROT_NAP_S"):
        ParrotOptions.from_env({"WASTREAM_PARROT_NAP_S": "soon"})
