"""``wastream dev up --brokers 3``: a three-node KRaft cluster on its own home and ports
(the shared stack stays untouched). Topics get RF 3 and min.insync.replicas 2, and RF 1
only with --allow-low-replication; status, env and down see every node; a node killed
with kill -9 is reported down and rejoins."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.support.system import REPO, free_port, free_port_run
from wastream.dev import procs, stack_from_env

pytestmark = pytest.mark.slow


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wastream.cli", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False, cwd=REPO,
    )


async def _replication(bootstrap: str, topic: str) -> tuple[set[int], str | None]:
    """(replica counts of the topic's partitions, its topic-level min.insync.replicas)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        sizes = {len(p["replicas"]) for p in described["partitions"]}
        (answer,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None})])
        entries = answer.to_object()["resources"][0]["config_entries"]
        # config_source 1: set on the topic itself (not the broker's default)
        isr = next((e["config_value"] for e in entries
                    if e["config_names"] == "min.insync.replicas" and e["config_source"] == 1),
                   None)
        return sizes, isr
    finally:
        await admin.close()


@pytest.mark.usefixtures("real_servers")  # starts a Kafka cluster and a PostgreSQL of its own
def test_dev_up_three_brokers_status_env_kill9_rejoin_down(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WASTREAM_") and k != "KAFKA_BOOTSTRAP_SERVERS"}
    home = tmp_path / "home"
    kafka_port = free_port_run(3)
    ports = [kafka_port, kafka_port + 1, kafka_port + 2]
    env.update({
        "WASTREAM_HOME": str(home),
        "WASTREAM_KAFKA_PORT": str(kafka_port),
        "WASTREAM_KAFKA_CONTROLLER_PORT": str(free_port_run(3)),
        "WASTREAM_PG_PORT": str(free_port()),
    })
    # reuse the shared stack's resolved classpath (same pom): no Maven run
    (home / "kafka-1").mkdir(parents=True)
    shared = stack_from_env().kafka.home
    for name in ("classpath.txt", "classpath.pom"):
        if (shared / name).exists():
            (home / "kafka-1" / name).write_bytes((shared / name).read_bytes())

    up = _cli(env, "dev", "up", "--brokers", "3")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "kafka: started" in up.stdout
        for port in ports:
            assert f"kafka: 127.0.0.1:{port} " in up.stdout

        again = _cli(env, "dev", "up")  # the recorded size: no --brokers needed
        assert again.returncode == 0, again.stdout + again.stderr
        assert "kafka: already running" in again.stdout
        other = _cli(env, "dev", "up", "--brokers", "1")
        assert other.returncode == 2
        assert "runs here with 3 broker(s)" in other.stderr

        status = _cli(env, "dev", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("kafka: healthy") == 3
        for i in (1, 2, 3):
            assert str(home / f"kafka-{i}" / "kafka.log") in status.stdout

        lines = _cli(env, "dev", "env").stdout.splitlines()
        bootstrap = ",".join(f"127.0.0.1:{p}" for p in ports)
        assert f"export KAFKA_BOOTSTRAP_SERVERS={bootstrap}" in lines
        assert "export WASTREAM_REPLICATION_FACTOR=3" in lines
        nodes = json.loads(_cli(env, "dev", "status", "--json").stdout)["kafka"]["nodes"]
        assert [(n["bootstrap"], n["healthy"]) for n in nodes] == [
            (f"127.0.0.1:{p}", True) for p in ports]

        # `wastream topics` with the exported settings: every topic RF 3, and so (the
        # plan's rule, RF-1 from RF 3) min.insync.replicas 2
        topic_env = dict(env, WASTREAM_TOPIC_PREFIX="c.", KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                         WASTREAM_REPLICATION_FACTOR="3")
        made = _cli(topic_env, "topics")
        assert made.returncode == 0, made.stdout + made.stderr
        for topic in ("c.wa.inbound", "c.wa.state", "c.wa.retry.1m"):
            assert asyncio.run(_replication(bootstrap, topic)) == ({3}, "2"), topic

        # RF 1 on these three brokers: refused in one line, unless told to accept it
        low_env = dict(topic_env, WASTREAM_TOPIC_PREFIX="l.", WASTREAM_REPLICATION_FACTOR="1")
        refused = _cli(low_env, "topics")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "--allow-low-replication" in refused.stderr
        allowed = _cli(low_env, "topics", "--allow-low-replication")
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
        assert asyncio.run(_replication(bootstrap, "l.wa.inbound")) == ({1}, "1")

        # kill -9 the second node: status names it down, `up` restarts it and it rejoins
        pid = int((home / "kafka-2" / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while procs.alive(pid, "kafka.Kafka") and time.monotonic() < deadline:
            time.sleep(0.1)
        down_status = _cli(env, "dev", "status")
        assert down_status.returncode == 1
        assert f"kafka: down 127.0.0.1:{ports[1]} " in down_status.stdout
        assert down_status.stdout.count("kafka: healthy") == 2

        restored = _cli(env, "dev", "up")
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "kafka: started" in restored.stdout
        assert _cli(env, "dev", "status").stdout.count("kafka: healthy") == 3
    finally:
        down = _cli(env, "dev", "down")
    assert down.returncode == 0, down.stderr
    for port in ports:
        assert not procs.port_open("127.0.0.1", port)


def test_secure_cluster_is_refused_in_one_line(tmp_path: Path) -> None:
    """--secure is a lone SASL_SSL node: with --brokers > 1 `up` says so and starts nothing."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WASTREAM_") and k != "KAFKA_BOOTSTRAP_SERVERS"}
    env["WASTREAM_HOME"] = str(tmp_path / "home")
    up = _cli(env, "dev", "up", "--secure", "--brokers", "3")
    assert up.returncode == 2, up.stdout + up.stderr
    assert up.stderr.strip().splitlines() == [
        "wastream dev up: --secure runs one broker, not 3: a cluster (--brokers N > 1) is "
        "plaintext only"]
    assert up.stdout == ""
    assert not (tmp_path / "home").exists()
