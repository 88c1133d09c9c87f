"""Kafka administration: the topic plan (partitions, replication, retention, min ISR), its
idempotent creation, and the check of existing topics against it (drift, and its fix
where a fix is safe)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from schemas import topics
from wastream.config import ConfigError, Settings
from wastream.config.kafka import client_args

DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' config_source of a topic's own setting


class TopicPlanError(RuntimeError):
    """The plan cannot be applied to this cluster as configured; the message says why."""


@dataclass(frozen=True)
class TopicSpec:
    """One topic as it should be: ``keyed`` topics are co-partitioned by wa_id with
    ``wa.inbound`` (their partition count must never change under a running system)."""

    name: str
    logical: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]
    keyed: bool


@dataclass(frozen=True)
class Drift:
    """A difference between a topic and its spec. ``action``: ``fixed``, ``refused``
    (fixable in principle, not safely: ``why`` says so), or ``report`` (cannot be fixed
    in place)."""

    topic: str
    what: str
    have: str
    want: str
    action: str
    why: str = ""


@dataclass
class TopicReport:
    created: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    brokers: int = 0
    #: topics of the plan absent from the cluster and left so (``check_only``)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "missing": self.missing, "brokers": self.brokers,
                "drift": [asdict(d) for d in self.drift]}


def retry_delays(settings: Settings) -> tuple[int, ...]:
    return settings.failure.retry_delays


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic of the plan. Retention: unlimited for ``topics.UNLIMITED_RETENTION``,
    ``WASTREAM_RETENTION_MS`` for the rest, ``WASTREAM_TOPIC_RETENTION_MS`` over both;
    ``topics.COMPACTED`` are compacted (the latest record of each key is kept);
    ``min.insync.replicas`` is RF-1 from RF 3 on (one replica may be down), else 1."""
    logical = topics.all_topics(retry_delays(settings))
    overrides = settings.kafka.topic_retention_ms
    unknown = sorted(set(overrides) - set(logical))
    if unknown:
        raise ConfigError(f"WASTREAM_TOPIC_RETENTION_MS: no such topic {', '.join(unknown)} "
                          f"(topics: {', '.join(logical)})")
    rf = settings.replication_factor
    min_isr = topics.min_insync_replicas(rf)
    specs = []
    for t in logical:
        retention = -1 if t in topics.UNLIMITED_RETENTION else settings.kafka.retention_ms
        retention = overrides.get(t, retention)
        specs.append(TopicSpec(
            name=settings.topic(t), logical=t, partitions=settings.partitions,
            replication_factor=rf,
            configs={"retention.ms": str(retention), "min.insync.replicas": str(min_isr),
                     **({"cleanup.policy": "compact"} if t in topics.COMPACTED else {})},
            keyed=t not in topics.NOT_CO_PARTITIONED))
    return specs


def topic_plan(settings: Settings) -> dict[str, int]:
    """Broker-side topic name → partitions. Every topic shares one partition count,
    which keeps everything keyed by wa_id co-partitioned with ``wa.inbound``."""
    return {s.name: s.partitions for s in topic_specs(settings)}


def check_replication(spec_rf: int, brokers: int, allow_low: bool) -> None:
    """Refuse a replication factor the cluster cannot hold, and one below 3 on a cluster
    that could hold 3 (a lost broker would lose acknowledged records) unless allowed."""
    if spec_rf > brokers:
        raise TopicPlanError(f"replication factor {spec_rf} needs {spec_rf} brokers, the "
                             f"cluster has {brokers}: set WASTREAM_REPLICATION_FACTOR")
    if spec_rf < 3 <= brokers and not allow_low:
        raise TopicPlanError(
            f"replication factor {spec_rf} on a cluster of {brokers} brokers: one broker "
            "lost would lose acknowledged records. Use 3 (unset WASTREAM_REPLICATION_FACTOR) "
            "or pass --allow-low-replication")


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create the missing topics of the plan; return the names created."""
    report = await apply_plan(settings, timeout_s=timeout_s, fix=False, allow_low_rf=True)
    return report.created


async def apply_plan(settings: Settings, *, timeout_s: float = 30.0, fix: bool = True,
                     allow_low_rf: bool = False, check_only: bool = False) -> TopicReport:
    """Create the missing topics, then compare every topic with its spec (partitions,
    co-partitioning, replication, retention, min ISR) and, with ``fix``, alter what can
    be altered safely. ``check_only`` changes nothing: missing topics are reported
    (``missing``), not created, and drift is reported, not fixed. Raises
    :class:`TopicPlanError` for a replication factor the cluster should not take."""
    specs = topic_specs(settings)
    admin = AIOKafkaAdminClient(**client_args(settings.kafka),
                                request_timeout_ms=int(timeout_s * 1000))
    await admin.start()
    try:
        report = TopicReport(brokers=len((await admin.describe_cluster())["brokers"]))
        check_replication(settings.replication_factor, report.brokers, allow_low_rf)
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        present = [s for s in specs if s.name in existing]
        if check_only:
            report.missing = [s.name for s in missing]
            if present:
                report.drift = await _drift(admin, present, fix=False)
            return report
        if missing:
            # Another instance may create them between our list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([
                    NewTopic(s.name, s.partitions, s.replication_factor,
                             topic_configs=s.configs) for s in missing])
        report.created = [s.name for s in missing]
        # Metadata propagates asynchronously: wait until every topic is visible.
        deadline = asyncio.get_running_loop().time() + timeout_s
        while {s.name for s in specs} - set(await admin.list_topics()):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"topics not visible after {timeout_s}s")
            await asyncio.sleep(0.1)
        if present:
            report.drift = await _drift(admin, present, fix=fix)
        return report
    finally:
        await admin.close()


async def _drift(admin: AIOKafkaAdminClient, specs: list[TopicSpec], *,
                 fix: bool) -> list[Drift]:
    described = {t["topic"]: t for t in await admin.describe_topics([s.name for s in specs])}
    drift: list[Drift] = []
    inbound = next((s for s in specs if s.logical == topics.INBOUND), None)
    inbound_n = len(described[inbound.name]["partitions"]) if inbound else None
    grow: dict[str, NewPartitions] = {}
    for s in specs:
        parts = described[s.name]["partitions"]
        have_n, have_rf = len(parts), min((len(p["replicas"]) for p in parts), default=0)
        if s.keyed and inbound_n is not None and have_n != inbound_n:
            drift.append(Drift(s.name, "co-partitioning", f"{have_n} partitions",
                               f"{inbound_n} (as {topics.INBOUND})", "report",
                               "keyed by wa_id: must match wa.inbound"))
        if have_n < s.partitions:
            if s.keyed:
                drift.append(Drift(
                    s.name, "partitions", str(have_n), str(s.partitions), "refused",
                    "keyed by wa_id: adding partitions moves keys to other partitions, away "
                    "from their state; migrate to new topics instead"))
            else:
                grow[s.name] = NewPartitions(s.partitions)
                drift.append(Drift(s.name, "partitions", str(have_n), str(s.partitions),
                                   "fixed" if fix else "report"))
        elif have_n > s.partitions:
            drift.append(Drift(s.name, "partitions", str(have_n), str(s.partitions), "report",
                               "Kafka cannot remove partitions"))
        if have_rf != s.replication_factor:
            drift.append(Drift(s.name, "replication factor", str(have_rf),
                               str(s.replication_factor), "report",
                               "needs a partition reassignment (kafka-reassign-partitions)"))
    if fix and grow:
        await admin.create_partitions(grow)
    drift += await _config_drift(admin, specs, fix=fix)
    return drift


async def _config_drift(admin: AIOKafkaAdminClient, specs: list[TopicSpec], *,
                        fix: bool) -> list[Drift]:
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs])
    current: dict[str, dict[str, tuple[str, int]]] = {}
    for response in responses:
        for res in response.to_object()["resources"]:
            if res["error_code"]:
                raise for_code(res["error_code"])(res["error_message"])
            current[res["resource_name"]] = {
                e["config_names"]: (e["config_value"], e["config_source"])
                for e in res["config_entries"]}
    drift: list[Drift] = []
    alter: list[ConfigResource] = []
    for s in specs:
        have = current.get(s.name, {})
        wrong = {k: v for k, v in s.configs.items() if have.get(k, ("", 0))[0] != v}
        for k, v in wrong.items():
            drift.append(Drift(s.name, k, have.get(k, ("unset", 0))[0], v,
                               "fixed" if fix else "report"))
        if wrong:
            # AlterConfigs replaces the topic's whole set of settings: keep its others.
            own = {k: v for k, (v, source) in have.items() if source == DYNAMIC_TOPIC_CONFIG}
            alter.append(ConfigResource(ConfigResourceType.TOPIC, s.name,
                                        configs={**own, **s.configs}))
    if fix and alter:
        for response in await admin.alter_configs(alter):
            for code, message, _type, name in response.resources:
                if code:
                    raise for_code(code)(f"{name}: {message}")
    return drift


async def delete_prefixed(
    bootstrap: str, prefix: str, connection: Mapping[str, Any] | None = None
) -> list[str]:
    """Delete every topic whose name starts with ``prefix`` (test clean-up); ``connection``
    (wastream.config.kafka.client_args) overrides ``bootstrap``."""
    if not prefix:
        raise ValueError("refusing to delete topics with an empty prefix")
    admin = AIOKafkaAdminClient(**(connection or {"bootstrap_servers": bootstrap}))
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()
