"""``wastream chat``: a number picks an option of the reply on screen, and is typed
text when that reply offers none (as on a phone: "How many bedrooms?" → "2")."""

from __future__ import annotations

import asyncio
from typing import Any

from schemas.outbound import OutboundMessage
from streams.engine import messages as m
from wastream.chat import handle_line


class FakeDriver:
    def __init__(self, latest: dict[str, Any]) -> None:
        self.latest = OutboundMessage(outbound_id="o:0", wa_id="1", phone_number_id="p",
                                      body=latest)
        self.last = self.latest
        self.did: list[tuple[str, object]] = []

    async def text(self, body: str) -> str:
        self.did.append(("text", body))
        return ""

    async def choose(self, n: int) -> str:
        self.did.append(("choose", n))
        return ""


def test_a_number_after_a_question_is_text_and_after_options_a_pick() -> None:
    asked = FakeDriver(m.text_body("1", "How many bedrooms?"))
    asyncio.run(handle_line(asked, "2"))  # type: ignore[arg-type]
    assert asked.did == [("text", "2")]
    offered = FakeDriver(m.buttons_body("1", "Pick", [m.Option("a", "A"), m.Option("b", "B")]))
    asyncio.run(handle_line(offered, "2"))  # type: ignore[arg-type]
    assert offered.did == [("choose", 2)]
