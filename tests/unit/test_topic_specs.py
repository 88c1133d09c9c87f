"""The topic plan's settings: retention per topic, min ISR from the replication factor,
the replication factor's default and the refusal of a low one on a real cluster."""

from __future__ import annotations

import pytest

from wastream.admin import TopicPlanError, check_replication, topic_specs
from wastream.config import ConfigError, Settings


def _by_logical(env: dict[str, str]) -> dict[str, dict[str, str]]:
    return {s.logical: s.configs for s in topic_specs(Settings.from_env(env))}


def test_retention_unlimited_for_the_log_and_dead_letters_default_for_the_rest() -> None:
    configs = _by_logical({})
    for t in ("wa.inbound", "wa.dlq", "wa.dlq.ops"):
        assert configs[t]["retention.ms"] == "-1", t
    assert configs["wa.outbound"]["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert configs["wa.retry.1m"]["retention.ms"] == str(7 * 24 * 3600 * 1000)


def test_retention_can_be_overridden() -> None:
    configs = _by_logical({"WASTREAM_RETENTION_MS": "3600000",
                           "WASTREAM_TOPIC_RETENTION_MS": "wa.dlq=86400000, wa.state=-1"})
    assert configs["wa.outbound"]["retention.ms"] == "3600000"
    assert configs["wa.dlq"]["retention.ms"] == "86400000"
    assert configs["wa.state"]["retention.ms"] == "-1"
    assert configs["wa.inbound"]["retention.ms"] == "-1"


@pytest.mark.parametrize("value", ["wa.dlq", "wa.dlq=soon", "wa.dlq=-2"])
def test_a_bad_retention_override_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="WASTREAM_TOPIC_RETENTION_MS"):
        Settings.from_env({"WASTREAM_TOPIC_RETENTION_MS": value})


def test_an_unknown_topic_in_the_overrides_is_refused() -> None:
    settings = Settings.from_env({"WASTREAM_TOPIC_RETENTION_MS": "wa.nope=1"})
    with pytest.raises(ConfigError, match=r"wa\.nope"):
        topic_specs(settings)


@pytest.mark.parametrize(("rf", "min_isr"), [("1", "1"), ("2", "1"), ("3", "2"), ("5", "4")])
def test_min_insync_replicas_is_rf_minus_one_from_three(rf: str, min_isr: str) -> None:
    specs = topic_specs(Settings.from_env({"WASTREAM_REPLICATION_FACTOR": rf}))
    assert {s.configs["min.insync.replicas"] for s in specs} == {min_isr}
    assert {s.replication_factor for s in specs} == {int(rf)}


def test_replication_factor_is_3_outside_loopback_unless_set() -> None:
    assert Settings.from_env({}).replication_factor == 1  # the dev stack
    assert Settings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092,localhost:9093"}).replication_factor == 1
    assert Settings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": "b1.kafka.internal:9092"}).replication_factor == 3
    assert Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "b1:9092",
                              "WASTREAM_REPLICATION_FACTOR": "2"}).replication_factor == 2


def test_low_replication_refused_on_three_brokers_unless_allowed() -> None:
    with pytest.raises(TopicPlanError, match="--allow-low-replication"):
        check_replication(1, brokers=3, allow_low=False)
    check_replication(1, brokers=3, allow_low=True)
    check_replication(3, brokers=3, allow_low=False)
    check_replication(1, brokers=1, allow_low=False)  # the dev stack: one broker
    with pytest.raises(TopicPlanError, match="needs 3 brokers"):
        check_replication(3, brokers=1, allow_low=True)


def test_only_the_raw_topic_is_not_keyed() -> None:
    specs = topic_specs(Settings.from_env({}))
    assert {s.logical for s in specs if not s.keyed} == {"wa.webhooks.raw"}
