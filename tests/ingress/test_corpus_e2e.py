"""The real ``wastream ingress`` process: every corpus body, and a 1000-update batch."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import orjson

from schemas import headers, topics
from schemas.envelope import InboundEvent
from tests.support import corpus
from tests.support.system import System
from tests.support.webhooks import envelope


async def test_every_corpus_body_read_back_from_wa_inbound(system: System) -> None:
    # Captured bodies carry Meta timestamps of 2023-2025, past the dedupe window, whose
    # updates the ingress drops (tests/ingress/test_stale.py): a window wide enough here.
    system.env_overrides["WASTREAM_DEDUPE_TTL_S"] = str(30 * 365 * 86400)
    system.start_ingress()
    bodies = corpus.bodies()
    names: dict[str, str] = {}  # the correlation id the ingress gave each body -> its name
    for name, raw in bodies:
        status, answer = await system.post_webhook(raw)
        assert status == 200, (name, answer)
        assert answer["events"] == len(corpus.EXPECTED_TYPES[name])
        names[answer["correlation_id"]] = name
    total = sum(len(t) for t in corpus.EXPECTED_TYPES.values())
    recs = await system.read(topics.INBOUND, min_count=total, settle_s=1.0)
    assert len(recs) == total
    by_body: dict[str, list[tuple[int, int, InboundEvent, bytes | None]]] = defaultdict(list)
    for r in recs:
        ev = InboundEvent.from_bytes(r.value or b"")
        assert r.headers[headers.CORRELATION_ID].decode() == ev.correlation_id
        by_body[names[ev.correlation_id]].append((r.partition, r.offset, ev, r.key))
    assert set(by_body) == {n for n, _ in bodies}
    for name, raw in bodies:
        got = by_body[name]
        expected = corpus.oracle(raw)
        # Records of one body may sit on several partitions: match them up by payload,
        # then check body order within each partition.
        assert sorted(orjson.dumps(ev.payload, option=orjson.OPT_SORT_KEYS) for *_, ev, _ in got) \
            == sorted(orjson.dumps(e.payload, option=orjson.OPT_SORT_KEYS) for e in expected)
        assert sorted(ev.type for *_, ev, _ in got) == sorted(corpus.EXPECTED_TYPES[name])
        index = {orjson.dumps(e.payload, option=orjson.OPT_SORT_KEYS): i
                 for i, e in enumerate(expected)}
        for _p, _o, ev, key in got:
            exp = expected[index[orjson.dumps(ev.payload, option=orjson.OPT_SORT_KEYS)]]
            assert key == exp.key.encode(), name
            assert ev.wa_id == exp.key
            if exp.event_id is not None:
                assert ev.event_id == exp.event_id
            assert ev.schema_version == 1
            assert ev.received_at
    raws = await system.read(topics.RAW, min_count=len(bodies), settle_s=0.5)
    assert sorted(r.value for r in raws) == sorted(raw for _, raw in bodies)


async def test_a_batch_of_1000_updates_gives_exactly_1000_events_in_order(system: System) -> None:
    entries = []
    k = 0
    start = int(time.time()) - 1000  # inside the dedupe window
    for e in range(4):  # 4 entries x 5 changes x 50 messages
        changes = []
        for _c in range(5):
            msgs = []
            for _ in range(50):
                msgs.append({"from": f"2507{k % 9:08d}", "id": f"wamid.K{k:04d}",
                             "timestamp": str(start + k), "type": "text",
                             "text": {"body": f"#{k}"}})
                k += 1
            changes.append(envelope(msgs)["entry"][0]["changes"][0])
        entries.append({"id": f"waba{e}", "changes": changes})
    body = orjson.dumps({"object": "whatsapp_business_account", "entry": entries})
    system.start_ingress()
    status, answer = await system.post_webhook(body)
    assert (status, answer["events"]) == (200, 1000)
    recs = await system.read(topics.INBOUND, min_count=1000, settle_s=1.0)
    assert len(recs) == 1000
    ids = [InboundEvent.from_bytes(r.value or b"").event_id for r in recs]
    assert sorted(ids) == [f"wamid.K{i:04d}" for i in range(1000)]
    # read_topic orders by (partition, offset): within each partition, body order
    for p in {r.partition for r in recs}:
        part = [i for r, i in zip(recs, ids, strict=True) if r.partition == p]
        assert part == sorted(part)
    for r in recs:  # and every key is the sender
        assert InboundEvent.from_bytes(r.value or b"").wa_id.encode() == r.key


async def test_ingress_refuses_to_start_without_app_secret(system: System) -> None:
    system.env_overrides["WHATSAPP_APP_SECRET"] = ""
    result = await asyncio.to_thread(system.cli, "ingress", "--port", "1", check=False,
                                     timeout_s=60)
    assert result.returncode == 2
    assert "WHATSAPP_APP_SECRET" in result.stderr


async def test_sigterm_finishes_cleanly_after_storing(system: System) -> None:
    system.env_overrides["WASTREAM_DEDUPE_TTL_S"] = str(30 * 365 * 86400)  # a captured body
    svc = system.start_ingress()
    status, _ = await system.post_webhook(corpus.bodies()[0][1])
    assert status == 200
    await asyncio.to_thread(svc.stop)
    assert svc.proc.returncode == 0, svc.tail()
    assert "ingress stopped" in svc.tail()
    assert len(await system.read(topics.INBOUND, min_count=1)) == 1
