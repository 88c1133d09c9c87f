"""Kafka security end to end: a broker with only a SASL_SSL listener (SCRAM-SHA-512 users,
a CA made on the spot: ``wastream dev up --secure``), and the ingress, the worker and the
projector connecting to it with KAFKA_SECURITY_PROTOCOL and friends; a client without the
credentials is refused."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from tests.support.system import System, free_port
from tests.support.webhooks import text_message_body
from wastream.dev import stack_from_env
from wastream.dev.kafka import KafkaNode

pytestmark = pytest.mark.slow


@pytest.fixture
def secure_kafka(dev_stack: dict[str, str], tmp_path: Path) -> Iterator[KafkaNode]:
    """A secure broker of the test's own (free ports, its own home), never the shared one."""
    home = tmp_path / "kafka"
    home.mkdir(parents=True)
    shared = stack_from_env().kafka.home
    for name in ("classpath.txt", "classpath.pom"):  # the same pom: no Maven run
        if (shared / name).exists():
            shutil.copy(shared / name, home / name)
    node = KafkaNode(home=home, port=free_port(), controller_port=free_port(), secure=True)
    try:
        node.start()
        yield node
    finally:
        with contextlib.suppress(Exception):
            node.stop()


async def _list_topics(**connection: object) -> list[str]:
    admin = AIOKafkaAdminClient(request_timeout_ms=5000, **connection)
    try:
        await asyncio.wait_for(admin.start(), 15)
        return list(await admin.list_topics())
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def test_services_work_through_sasl_ssl_and_strangers_are_refused(
    secure_kafka: KafkaNode, dev_stack: dict[str, str]
) -> None:
    node = secure_kafka
    system = System(bootstrap=node.bootstrap, database_url=dev_stack["database_url"],
                    database_owner_url=dev_stack["database_owner_url"],
                    env_overrides=node.client_env())
    try:
        await asyncio.to_thread(system.create_topics)  # the admin client, with credentials
        await asyncio.to_thread(system.migrate)
        system.start_ingress()
        worker = system.start_worker()
        projector = system.start_projector()

        wa_id, wamid = "250788555001", f"wamid.SECURE{time.time_ns()}"
        status, answer = await system.post_webhook(text_message_body(wa_id, "hi", wamid=wamid))
        assert status == 200, answer  # the ingress produced it over SASL_SSL
        # The projector read wa.inbound, and the worker's transition on wa.state.
        events = await system.wait_rows(
            "SELECT * FROM wa_events WHERE event_id = $1", 1, 120, wamid)
        assert len(events) == 1, worker.tail() + projector.tail()
        states = await system.wait_rows("SELECT * FROM chat_state WHERE wa_id = $1", 1, 120,
                                        wa_id)
        assert len(states) == 1, worker.tail() + projector.tail()

        # With the credentials the topics are there; without them, no connection at all.
        with_creds = await _list_topics(**node.client_args())
        assert system.topic("wa.inbound") in with_creds
        with pytest.raises(KafkaConnectionError):
            await _list_topics(bootstrap_servers=node.bootstrap)
        wrong = {**node.client_args(), "sasl_plain_password": "not-the-password"}
        with pytest.raises(KafkaConnectionError):
            await _list_topics(**wrong)
        # A service started without the settings fails instead of working in the clear.
        plain = System(bootstrap=node.bootstrap, database_url=dev_stack["database_url"],
                       database_owner_url=dev_stack["database_owner_url"],
                       prefix=system.prefix)
        refused = await asyncio.to_thread(plain.cli, "topics", check=False, timeout_s=90)
        assert refused.returncode != 0, refused.stdout
    finally:
        await system.teardown()


def test_dev_up_secure_from_the_cli(dev_stack: dict[str, str], tmp_path: Path) -> None:
    """`wastream dev up --secure` in a home and ports of its own: `dev env` there prints
    the credentials, `dev status` knows it is secure without the flag, `dev down` stops it."""
    import json
    import os
    import subprocess
    import sys

    from tests.support.system import REPO

    home = tmp_path / "home"
    (home / "kafka").mkdir(parents=True)
    shared = stack_from_env().kafka.home
    for name in ("classpath.txt", "classpath.pom"):
        if (shared / name).exists():
            shutil.copy(shared / name, home / "kafka" / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WASTREAM_", "KAFKA_", "DATABASE_"))}
    env.update({"WASTREAM_HOME": str(home), "WASTREAM_KAFKA_PORT": str(free_port()),
                "WASTREAM_KAFKA_CONTROLLER_PORT": str(free_port()),
                "WASTREAM_PG_PORT": str(free_port())})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wastream.cli", "dev", *args], env=env,
                              cwd=REPO, capture_output=True, text=True, timeout=240,
                              check=False)

    try:
        up = cli("up", "--secure")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "SASL_SSL" in up.stdout
        exports = dict(line.removeprefix("export ").split("=", 1)
                       for line in cli("env").stdout.splitlines())
        assert exports["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert exports["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert Path(exports["KAFKA_SSL_CAFILE"]).read_text().startswith("-----BEGIN CERT")
        status = cli("status", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        kafka = json.loads(status.stdout)["kafka"]
        assert kafka | {"pid": 0, "log": "", "nodes": []} == {
            "healthy": True, "bootstrap": exports["KAFKA_BOOTSTRAP_SERVERS"], "secure": True,
            "pid": 0, "log": "", "nodes": []}
        assert [(n["bootstrap"], n["healthy"]) for n in kafka["nodes"]] == [
            (exports["KAFKA_BOOTSTRAP_SERVERS"], True)]
        with pytest.raises(KafkaConnectionError):
            asyncio.run(_list_topics(bootstrap_servers=exports["KAFKA_BOOTSTRAP_SERVERS"]))
    finally:
        down = cli("down")
        from tests.support.devstack import drop_cluster

        drop_cluster(stack_from_env(env))
        assert down.returncode == 0, down.stderr
