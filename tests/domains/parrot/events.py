"""The parrot's one fact on ``wa.domain``, at version 2 (version 1 called the word
``text`` and had no language: records of it are upcast when read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from schemas.domain import Event, Upcaster


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"word": data.get("text", ""), "lang": "en"}


@dataclass(frozen=True, slots=True)
class WordLearned(Event):
    """A user taught the parrot ``word`` (in ``lang``)."""

    type: ClassVar[str] = "WordLearned"
    version: ClassVar[int] = 2
    upcasters: ClassVar[Mapping[int, Upcaster]] = {1: _v1_to_v2}
    word: str
    lang: str
