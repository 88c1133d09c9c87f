"""A stand-in for the ``chat_state`` table in the conversation agent's unit tests: a dict
(the store) with what the agent uses of Faust's table (its changelog topic's name and
``send_changelog``, whose future resolves once the record is acknowledged)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any


class StateTable(dict[bytes, bytes]):
    changelog_topic = SimpleNamespace(get_topic_name=lambda: "chat_state-changelog")

    def __init__(self) -> None:
        super().__init__()
        self.changelog: list[tuple[bytes, bytes]] = []  # records sent, in order
        self.pending: list[asyncio.Future[None]] = []
        self.ack_at_once = True  # False: the test resolves ``pending`` itself

    def send_changelog(self, partition: int | None, key: bytes, value: bytes) -> Any:
        self.changelog.append((key, value))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.ack_at_once:
            fut.set_result(None)
        self.pending.append(fut)
        return fut
