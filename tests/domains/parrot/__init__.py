"""A small domain that lives only under ``tests/``: it proves the seam holds for a
domain the registry does not list (loaded with WASTREAM_EXTRA_DOMAINS).

It brings one of everything: a flow with two steps and a timer, a menu entry, texts
in en/fr/rw, a typed event (at version 2, with an upcaster), a read model kept from
``wa.domain``, an option group, data kept across flows, and a handler of an internal
event one user's conversation sends to another's.
"""

from __future__ import annotations

from streams.engine.domain import Domain, MenuEntry
from tests.domains.parrot.events import WordLearned
from tests.domains.parrot.flow import FLOW, NAME, TEXTS, ParrotOptions, on_word
from tests.domains.parrot.vocabulary import Vocabulary


def _vocabulary(opts: ParrotOptions) -> Vocabulary:
    return Vocabulary(memory_s=opts.memory_s)


DOMAIN = Domain(
    name=NAME,
    flows=(FLOW,),
    menu=(MenuEntry("parrot", FLOW.name),),
    texts=TEXTS,
    events=(WordLearned,),
    handlers={"wastream.parrot.word": on_word},
    options=ParrotOptions,
    model=_vocabulary,
)
