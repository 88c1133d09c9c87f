"""`wastream topics` against the real broker: topics get their retention and min ISR, an
existing topic's drift is reported and fixed where safe (its other settings kept), keyed
topics are never given partitions, and a replication factor the cluster cannot hold is a
one-line refusal."""

from __future__ import annotations

import asyncio

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.support.system import System


async def _configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        out: dict[str, dict[str, str]] = {}
        for r in await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]):
            for res in r.to_object()["resources"]:
                out[res["resource_name"]] = {e["config_names"]: e["config_value"]
                                             for e in res["config_entries"]}
        return out
    finally:
        await admin.close()


async def _alter(bootstrap: str, name: str, configs: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs)])
    finally:
        await admin.close()


async def _partitions(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()


async def test_topics_get_their_settings_and_drift_is_fixed_where_safe(system: System) -> None:
    # The fixture ran `wastream topics`: every topic has the plan's settings.
    names = [system.topic(t) for t in ("wa.inbound", "wa.dlq", "wa.dlq.ops", "wa.outbound")]
    got = await _configs(system.bootstrap, names)
    for t in names[:3]:
        assert got[t]["retention.ms"] == "-1", t
    assert got[system.topic("wa.outbound")]["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert {c["min.insync.replicas"] for c in got.values()} == {"1"}
    clean = await asyncio.to_thread(system.cli, "topics", "--json")
    assert orjson.loads(clean.stdout)["drift"] == []

    # Drift: a retention changed by hand (beside a setting of the topic's own, which the
    # fix must keep), and one more partition asked of every topic.
    outbound = system.topic("wa.outbound")
    await _alter(system.bootstrap, outbound, {"retention.ms": "1000",
                                               "max.message.bytes": "123456"})
    system.env_overrides["WASTREAM_PARTITIONS"] = str(system.partitions + 1)
    checked = await asyncio.to_thread(system.cli, "topics", "--check", "--json", check=False)
    assert checked.returncode == 1
    drift = orjson.loads(checked.stdout)["drift"]
    assert {"topic": outbound, "what": "retention.ms", "have": "1000",
            "want": str(7 * 24 * 3600 * 1000), "action": "report", "why": ""} in drift
    # --check changed nothing.
    assert (await _configs(system.bootstrap, [outbound]))[outbound]["retention.ms"] == "1000"

    fixed = await asyncio.to_thread(system.cli, "topics", check=False)
    assert fixed.returncode == 1, fixed.stdout  # the keyed topics' partitions remain
    assert "TOPIC" in fixed.stdout.splitlines()[0]  # a header on the table
    after = (await _configs(system.bootstrap, [outbound]))[outbound]
    assert after["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert after["max.message.bytes"] == "123456"
    raw, inbound = system.topic("wa.webhooks.raw"), system.topic("wa.inbound")
    counts = await _partitions(system.bootstrap, [raw, inbound, outbound])
    assert counts[raw] == system.partitions + 1  # not keyed by wa_id: grown
    assert counts[inbound] == counts[outbound] == system.partitions  # keyed: refused
    assert "refused" in fixed.stdout
    assert "moves keys" in fixed.stdout

    again = await asyncio.to_thread(system.cli, "topics", "--json", check=False)
    left = orjson.loads(again.stdout)["drift"]
    assert left
    assert {d["action"] for d in left} == {"refused"}
    assert {d["what"] for d in left} == {"partitions"}


async def test_a_replication_factor_the_cluster_cannot_hold_is_refused(system: System) -> None:
    system.env_overrides["WASTREAM_REPLICATION_FACTOR"] = "3"
    result = await asyncio.to_thread(system.cli, "topics", check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "needs 3 brokers" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_keyed_topic_partitioned_unlike_inbound_is_reported(system: System) -> None:
    # Topics made by hand under a prefix of their own (inside the system's, so that its
    # teardown deletes them): wa.outbound with one partition more than wa.inbound.
    prefix = f"{system.prefix}cp."
    inbound, outbound = f"{prefix}wa.inbound", f"{prefix}wa.outbound"
    admin = AIOKafkaAdminClient(bootstrap_servers=system.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(inbound, system.partitions, 1),
                                   NewTopic(outbound, system.partitions + 1, 1)])
    finally:
        await admin.close()
    system.env_overrides["WASTREAM_TOPIC_PREFIX"] = prefix
    checked = await asyncio.to_thread(system.cli, "topics", "--check", "--json", check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    copart = [d for d in orjson.loads(checked.stdout)["drift"] if d["what"] == "co-partitioning"]
    assert copart == [{"topic": outbound, "what": "co-partitioning",
                       "have": f"{system.partitions + 1} partitions",
                       "want": f"{system.partitions} (as wa.inbound)", "action": "report",
                       "why": "keyed by wa_id: must match wa.inbound"}]


async def test_check_changes_nothing_and_reports_missing_topics(system: System) -> None:
    # A prefix with no topic at all, inside the system's (its teardown deletes whatever
    # a failing run creates): --check must create none of them, and say so.
    prefix = f"{system.prefix}chk."
    system.env_overrides["WASTREAM_TOPIC_PREFIX"] = prefix
    plan = orjson.loads((await asyncio.to_thread(system.cli, "topics", "--list", "--json")).stdout)
    checked = await asyncio.to_thread(system.cli, "topics", "--check", "--json", check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    report = orjson.loads(checked.stdout)
    assert report["created"] == []
    assert sorted(report["missing"]) == sorted(t["topic"] for t in plan)
    admin = AIOKafkaAdminClient(bootstrap_servers=system.bootstrap)
    await admin.start()
    try:
        assert [t for t in await admin.list_topics() if t.startswith(prefix)] == []
    finally:
        await admin.close()
    text = await asyncio.to_thread(system.cli, "topics", "--check", check=False)
    assert f"missing {prefix}wa.inbound" in text.stdout.splitlines()


async def test_ensure_topics_creates_the_missing_ones(system: System) -> None:
    # What the benches and the ingress tests start with: unlike --check, it creates.
    from wastream.admin import ensure_topics, topic_specs
    from wastream.config import Settings

    prefix = f"{system.prefix}ens."
    settings = Settings.from_env({**system.env, "WASTREAM_TOPIC_PREFIX": prefix})
    created = await ensure_topics(settings)
    assert sorted(created) == sorted(s.name for s in topic_specs(settings))
    assert await ensure_topics(settings) == []  # the second time, nothing is missing
