"""The test domain end to end, from its own package under ``tests/``: registered with
WASTREAM_EXTRA_DOMAINS, signed webhooks → real ingress → real broker → the real
``wastream worker`` → replies read from ``wa.outbound``. Its read model is rebuilt from
``wa.domain`` by a restarted worker, including a record an older version wrote."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from schemas import topics
from schemas.domain import DomainEvent
from tests.support import kafka as tk
from tests.support.system import APP_SECRET
from wastream.driver import ConversationDriver, options, render

A, B, C, D = "250788600001", "250788600002", "250788600003", "250788600004"


@contextlib.asynccontextmanager
async def users(system, *wa_ids: str) -> AsyncIterator[list[ConversationDriver]]:  # type: ignore[no-untyped-def]
    drivers = [
        ConversationDriver(
            system.webhook_url, APP_SECRET, system.bootstrap, system.topic(topics.OUTBOUND), w
        )
        for w in wa_ids
    ]
    for d in drivers:
        await d.start()
    try:
        yield drivers
    finally:
        for d in drivers:
            await d.stop()


async def said(user: ConversationDriver, n: int = 1, timeout_s: float = 30) -> list[str]:
    r = await user.replies(min_count=n, timeout_s=timeout_s)
    assert len(r) >= n, f"{user.wa_id}: expected {n} replies, got {[render(x.body) for x in r]}"
    return [render(x.body) for x in r]


async def test_the_test_domain_runs_through_the_real_worker(system) -> None:  # type: ignore[no-untyped-def]
    system.env_overrides.update({
        "WASTREAM_EXTRA_DOMAINS": "tests.domains.parrot",
        "WASTREAM_PARROT_NAP_S": "3",
        "WASTREAM_TIMER_TICK_S": "0.3",
    })
    system.start_ingress()
    worker = system.start_worker()
    async with users(system, A, B, C) as (a, b, c):
        await a.text("hi")
        menu = await a.replies(min_count=1, timeout_s=60)
        assert menu, worker.tail()
        assert [o[0] for o in options(menu[0].body)][-2:] == ["menu:parrot", "menu:language"]
        await a.pick("menu:parrot")
        assert await said(a) == ["Teach me a word."]
        await a.text("mango")
        assert await said(a, 2) == ["Parrot says: mango! 0 others taught me that word.",
                                    "Who should hear it? Type their number."]
        await a.text(B)  # the internal event goes to B's conversation, on its partition
        assert await said(a) == ["Sent."]
        assert await said(b) == [f"+{A}'s parrot says: mango"]

        # B teaches the same word (the read model saw A's event at once), then naps.
        await b.text("hi")
        await said(b)
        await b.pick("menu:parrot")
        assert await said(b) == ["Teach me a word."]
        await b.text("mango")
        assert (await said(b, 2))[0] == "Parrot says: mango! 1 others taught me that word."
        assert await said(b, 1, timeout_s=20) == ["The parrot fell asleep."]  # the timer

        # An older version of the event, written by an older writer (v1 called the word
        # "text"): read through the upcaster by the worker's read model.
        old = DomainEvent(event_id="old:WordLearned", name="WordLearned", wa_id=D,
                          data={"text": "mango"}, version=1)
        await tk.produce(system.bootstrap, system.topic(topics.DOMAIN),
                         [(D.encode(), old.to_bytes())])

        # A new worker rebuilds the read model from wa.domain (A, B and D's old record).
        worker.stop()
        worker = system.start_worker()
        await c.text("hi")
        assert await c.replies(min_count=1, timeout_s=60), worker.tail()
        await c.pick("menu:parrot")
        await said(c)
        await c.text("mango")
        assert (await said(c, 2))[0] == "Parrot says: mango! 3 others taught me that word.", (
            worker.tail())
        # A's word was kept across flows, and survived the restart with the conversation.
        await a.pick("menu:parrot")
        assert await said(a) == ["Teach me a word. Last time you taught me mango."]

    facts = [DomainEvent.from_bytes(r.value or b"")
             for r in await system.read(topics.DOMAIN, min_count=4)]
    ours = sorted((f.wa_id, f.name, f.version, f.data) for f in facts if f.wa_id != D)
    assert ours == [(u, "WordLearned", 2, {"word": "mango", "lang": "en"}) for u in (A, B, C)]
