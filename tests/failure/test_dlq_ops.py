"""Operating dead letters on the real broker: the ``wastream dlq`` CLI, the admin HTTP
API, redrive exactly once (also when two operators race), discard, auto-redrive."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from schemas import headers as h
from schemas.dlq import DlqDecision
from streams.dlq.api import create_app
from streams.dlq.ops import DlqOps
from streams.failure.errors import PermanentError, TransientError
from streams.failure.records import Origin, error_headers
from tests.support import kafka as tk
from tests.support.failure import event
from tests.support.system import ADMIN_TOKEN, System
from wastream.config import Settings


async def seed_letters(system: System) -> dict[str, str]:
    """Three letters as the failure router writes them; name → dlq_id."""
    inbound = system.topic("wa.inbound")
    ids = {}
    for name, exc, offset in [("a", TransientError("graph 503"), 7),
                              ("b", PermanentError("bad input"), 8),
                              ("c", TransientError("db away"), 9)]:
        origin = Origin(inbound, 1, offset)
        hdrs = [*h.to_headers(error_headers(exc, origin, 3)), (h.CORRELATION_ID, b"corr")]
        await tk.produce(system.bootstrap, system.topic("wa.dlq"),
                         [(name.encode(), event(name, 0).to_bytes())], headers=hdrs)
        ids[name] = origin.dlq_id
    return ids


def settings_of(system: System) -> Settings:
    return Settings.from_env(system.env)


async def test_cli_list_show_redrive_twice_discard(system: System) -> None:
    ids = await seed_letters(system)
    out = await asyncio.to_thread(system.cli, "dlq", "list", "--json")
    rows = orjson.loads(out.stdout)
    assert {r["dlq_id"] for r in rows} == set(ids.values())
    assert all(r["type"] == "message.text" for r in rows)
    perm = orjson.loads((await asyncio.to_thread(
        system.cli, "dlq", "list", "--json", "--error-class", "PermanentError")).stdout)
    assert [r["dlq_id"] for r in perm] == [ids["b"]]

    first = await asyncio.to_thread(system.cli, "dlq", "redrive", ids["a"], "--by", "ops1")
    assert orjson.loads(first.stdout)["result"] == "redriven"
    second = await asyncio.to_thread(system.cli, "dlq", "redrive", ids["a"], check=False)
    assert second.returncode == 1
    assert orjson.loads(second.stdout)["result"] == "already_redriven"
    inbound = await system.read("wa.inbound", min_count=1, timeout_s=20, settle_s=2)
    assert len(inbound) == 1  # one re-publish
    rec = inbound[0]
    assert rec.partition == 1  # the original partition (co-partitioning kept)
    assert rec.headers[h.REDRIVE_OF] == ids["a"].encode()
    assert h.ATTEMPT not in rec.headers  # a fresh retry budget
    assert rec.headers[h.CORRELATION_ID] == b"corr"
    assert rec.value == event("a", 0).to_bytes()

    no_reason = await asyncio.to_thread(system.cli, "dlq", "discard", ids["c"], check=False)
    assert no_reason.returncode == 2
    await asyncio.to_thread(system.cli, "dlq", "discard", ids["c"], "--by", "ops2",
                            "--reason", "test data")
    shown = orjson.loads((await asyncio.to_thread(system.cli, "dlq", "show", ids["c"])).stdout)
    assert shown["status"] == "discarded"
    assert shown["decisions"][0]["by"] == "ops2"
    assert shown["decisions"][0]["reason"] == "test data"
    assert "TransientError" in shown["error_trace"]
    ops = await system.read("wa.dlq.ops", min_count=3, timeout_s=10)
    assert sorted(DlqDecision.from_bytes(r.value or b"").action for r in ops) == \
        ["discard", "redrive", "redriven"]  # the redrive, then its mark once published


async def test_two_concurrent_redrives_publish_once(system: System) -> None:
    ids = await seed_letters(system)
    a, b = DlqOps(settings_of(system)), DlqOps(settings_of(system))
    results = await asyncio.gather(a.redrive(ids["b"], by="x"), b.redrive(ids["b"], by="y"))
    assert sorted(r["result"] for r in results) == ["already_redriven", "redriven"]
    inbound = await system.read("wa.inbound", min_count=1, timeout_s=20, settle_s=2)
    assert len(inbound) == 1


async def test_auto_redrive_takes_only_transient_letters(system: System) -> None:
    ids = await seed_letters(system)
    done = await DlqOps(settings_of(system)).auto_redrive(cooldown_s=0)
    assert sorted(d["dlq_id"] for d in done) == sorted([ids["a"], ids["c"]])
    again = await DlqOps(settings_of(system)).auto_redrive(cooldown_s=0)
    assert again == []


async def test_admin_api_needs_the_bearer_token(system: System) -> None:
    ids = await seed_letters(system)
    async with TestClient(TestServer(create_app(settings_of(system)))) as client:
        assert (await client.get("/dlq")).status == 401
        assert (await client.get("/dlq", headers={"Authorization": "Bearer nope"})).status == 401
        assert (await client.post(f"/dlq/{ids['a']}/redrive")).status == 401
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        r = await client.get("/dlq", params={"error_class": "TransientError"}, headers=auth)
        assert r.status == 200
        assert sorted(x["dlq_id"] for x in await r.json()) == sorted([ids["a"], ids["c"]])
        r = await client.get(f"/dlq/{ids['b']}", headers=auth)
        assert (await r.json())["error_message"] == "bad input"
        assert (await client.get("/dlq/nope:0:0", headers=auth)).status == 404
        r = await client.post(f"/dlq/{ids['a']}/redrive", json={"by": "api"}, headers=auth)
        assert (await r.json())["result"] == "redriven"
        r = await client.post(f"/dlq/{ids['a']}/redrive", json={"by": "api"}, headers=auth)
        assert (await r.json())["result"] == "already_redriven"
        r = await client.post(f"/dlq/{ids['b']}/discard", json={"by": "api"}, headers=auth)
        assert r.status == 400
        r = await client.post(f"/dlq/{ids['b']}/discard", json={"reason": "dup"}, headers=auth)
        assert (await r.json())["result"] == "discarded"
    assert len(await system.read("wa.inbound", min_count=1, timeout_s=20, settle_s=2)) == 1


async def test_a_crash_between_the_decision_and_the_re_publish_is_completed_later(
        system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """The redrive's decision is on wa.dlq.ops, then its process dies before the letter
    is re-published: the letter is pending, not redriven forever; once past the grace,
    the next auto-redrive round re-publishes it, once."""
    ids = await seed_letters(system)
    inbound = system.topic("wa.inbound")
    crashing = DlqOps(settings_of(system))
    real_producer = crashing._producer

    async def producer_that_dies_before_re_publishing() -> Any:
        p = await real_producer()
        real_send = p.send_and_wait

        async def send_and_wait(topic: str, *args: Any, **kwargs: Any) -> Any:
            if topic == inbound:
                raise SystemExit("killed between the decision and the re-publish")
            return await real_send(topic, *args, **kwargs)

        p.send_and_wait = send_and_wait  # type: ignore[method-assign]
        return p

    monkeypatch.setattr(crashing, "_producer", producer_that_dies_before_re_publishing)
    with pytest.raises(SystemExit):
        await crashing.redrive(ids["b"], by="ops1")

    ops = DlqOps(settings_of(system))  # a restart: a new process
    shown = await ops.show(ids["b"])
    assert shown is not None
    assert shown["status"] == "redrive_pending"
    # within the grace the writer may still be publishing: nobody else does it
    assert (await ops.redrive(ids["b"]))["result"] == "redrive_pending"
    later = DlqOps(settings_of(system), pending_grace_s=0)
    done = await later.auto_redrive(cooldown_s=3600)  # the open ones are too young
    assert [(d["dlq_id"], d["result"]) for d in done] == [(ids["b"], "redriven")]
    assert (await later.redrive(ids["b"]))["result"] == "already_redriven"
    assert await later.auto_redrive(cooldown_s=3600) == []
    records = await system.read("wa.inbound", min_count=1, timeout_s=20, settle_s=2)
    assert [r.headers[h.REDRIVE_OF] for r in records] == [ids["b"].encode()]
    assert (await DlqOps(settings_of(system)).show(ids["b"]) or {})["status"] == "redriven"


async def test_later_calls_read_only_what_was_appended_since(
        system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """Auto-redrive rounds and API calls on one DlqOps read both topics once, then only
    their new records (each round re-reading both in full made auto-redrive O(N^2))."""
    from streams.dlq import ops as ops_module

    read = {"n": 0}

    class CountingConsumer(ops_module.AIOKafkaConsumer):  # type: ignore[misc]
        async def getmany(self, *args: Any, **kwargs: Any) -> Any:
            got = await super().getmany(*args, **kwargs)
            read["n"] += sum(len(v) for v in got.values())
            return got

    monkeypatch.setattr(ops_module, "AIOKafkaConsumer", CountingConsumer)
    ids = await seed_letters(system)
    ops = DlqOps(settings_of(system))
    assert len(await ops.list_letters()) == 3
    first = read["n"]
    assert first == 3  # three letters, no decisions yet
    done = await ops.auto_redrive(cooldown_s=0)  # redrives a and c: two decisions, two marks
    assert sorted(d["dlq_id"] for d in done) == sorted([ids["a"], ids["c"]])
    await ops.list_letters()  # reads the last mark appended
    before = read["n"]
    assert before == first + 4  # two decisions, two marks: nothing read twice
    assert await ops.auto_redrive(cooldown_s=0) == []
    assert read["n"] == before  # nothing new: nothing read
    assert {r["dlq_id"]: r["status"] for r in await ops.list_letters()} == {
        ids["a"]: "redriven", ids["b"]: "open", ids["c"]: "redriven"}
    assert read["n"] == before
