"""The parrot's flow: word (teach it a word) → friend (who should hear it), with a nap
timer; and the handler of the word a friend's parrot sends to this user."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from streams.engine.catalog import Catalog
from streams.engine.flows import Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out
from tests.domains.parrot.events import WordLearned
from tests.domains.parrot.vocabulary import Vocabulary
from wastream.config import Group

NAME = "parrot"
QUIET_MENU = Go(step="main", flow="menu", prompt=False)

TEXTS = Catalog(
    {
        "en": {
            "menu.parrot": "Parrot",
            "menu.parrot.desc": "Teach a word, send it to a friend",
            "parrot.ask": "Teach me a word.",
            "parrot.ask.last": "Teach me a word. Last time you taught me {word}.",
            "parrot.says": "Parrot says: {word}! {others} others taught me that word.",
            "parrot.friend": "Who should hear it? Type their number.",
            "parrot.sent": "Sent.",
            "parrot.heard": "+{sender}'s parrot says: {word}",
            "parrot.asleep": "The parrot fell asleep.",
        },
        "fr": {
            "menu.parrot": "Perroquet",
            "menu.parrot.desc": "Apprenez-lui un mot, envoyez-le",
            "parrot.ask": "Apprenez-moi un mot.",
            "parrot.ask.last": "Apprenez-moi un mot. La dernière fois : {word}.",
            "parrot.says": "Le perroquet dit : {word} ! {others} autres me l'ont appris.",
            "parrot.friend": "Qui doit l'entendre ? Tapez son numéro.",
            "parrot.sent": "Envoyé.",
            "parrot.heard": "Le perroquet de +{sender} dit : {word}",
            "parrot.asleep": "Le perroquet s'est endormi.",
        },
        "rw": {
            "menu.parrot": "Inyoni ivuga",
            "menu.parrot.desc": "Yigishe ijambo, urioherereze inshuti",
            "parrot.ask": "Nyigisha ijambo.",
            "parrot.ask.last": "Nyigisha ijambo. Ubushize wanyigishije {word}.",
            "parrot.says": "Inyoni iravuga: {word}! Abandi {others} barayinyigishije.",
            "parrot.friend": "Ni nde ukwiye kuryumva? Andika nimero ye.",
            "parrot.sent": "Byoherejwe.",
            "parrot.heard": "Inyoni ya +{sender} iravuga: {word}",
            "parrot.asleep": "Inyoni yasinziriye.",
        },
    }
)


class ParrotOptions(Group):
    """How long the parrot waits for a friend's number, and remembers words."""

    section = "parrot"
    title = "Parrot (a test domain)"

    nap_s: float = Field(60.0, gt=0, alias="WASTREAM_PARROT_NAP_S",
                         description="the parrot naps after this long")
    memory_s: float = Field(3600.0, gt=0, alias="WASTREAM_PARROT_MEMORY_S",
                            description="words are remembered this long")


def opts(ctx: Ctx) -> ParrotOptions:
    return ctx.domains.option(NAME, ParrotOptions)


def vocabulary(ctx: Ctx) -> Vocabulary:
    return ctx.domains.model(NAME, Vocabulary)


def _word_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    last = conv.domains.get(NAME, {}).get("last")  # kept across flows
    if last:
        return [TEXTS.say(conv, "parrot.ask.last", word=last)]
    return [TEXTS.say(conv, "parrot.ask")]


def _word(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    word = inp.text.strip()
    if inp.kind != "text" or not word or " " in word:
        return None
    others = vocabulary(ctx).taught_by_others(word, conv.wa_id)
    out.domain.append(WordLearned(word=word, lang=conv.lang))
    out.replies.append(TEXTS.say(conv, "parrot.says", word=word, others=others))
    conv.slot(NAME)["last"] = word
    conv.deadlines["parrot_nap"] = ctx.now + opts(ctx).nap_s
    return Go(step="friend", data={"word": word})


def _friend_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [TEXTS.say(conv, "parrot.friend")]


def _friend(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    number = inp.word.lstrip("+")
    if not (number.isdigit() and 6 <= len(number) <= 15):
        return None
    out.internal.append(
        (number, "wastream.parrot.word", {"sender": conv.wa_id, "word": conv.data["word"]})
    )
    out.replies.append(TEXTS.say(conv, "parrot.sent"))
    conv.deadlines.pop("parrot_nap", None)
    return QUIET_MENU


def _nap(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    if conv.flow != NAME:
        return None
    out.replies.append(TEXTS.say(conv, "parrot.asleep"))
    return QUIET_MENU


def on_word(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """A friend's parrot repeats a word to this user (their conversation is unchanged)."""
    out.replies.append(TEXTS.say(conv, "parrot.heard", sender=p["sender"], word=p["word"]))
    return None


FLOW = Flow(
    name=NAME,
    start="word",
    steps={
        "word": Step(prompt=_word_prompt, accept=_word),
        "friend": Step(prompt=_friend_prompt, accept=_friend),
    },
    timers={"parrot_nap": _nap},
)
