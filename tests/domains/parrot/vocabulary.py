"""The parrot's read model: which users taught it which word, across all users."""

from __future__ import annotations

from schemas.domain import Event
from tests.domains.parrot.events import WordLearned


class Vocabulary:
    """word → {wa_id: when it was last taught}; idempotent (a user counts once)."""

    def __init__(self, memory_s: float) -> None:
        self.window_s = memory_s
        self.words: dict[str, dict[str, float]] = {}

    def apply(self, wa_id: str, event: Event, now: float) -> None:
        if isinstance(event, WordLearned):
            self.words.setdefault(event.word.casefold(), {})[wa_id] = now

    def prune(self, now: float) -> None:
        for word, users in list(self.words.items()):
            kept = {w: at for w, at in users.items() if at > now - self.window_s}
            if kept:
                self.words[word] = kept
            else:
                del self.words[word]

    def taught_by_others(self, word: str, wa_id: str) -> int:
        return len(self.words.get(word.casefold(), {}).keys() - {wa_id})
