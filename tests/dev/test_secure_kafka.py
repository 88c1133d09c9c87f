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
                       prefix=system.prefix)
        refused = await asyncio.to_thread(plain.cli, "topics", check=False, timeout_s=90)
        assert refused.returncode != 0, refused.stdout
    finally:
        await system.teardown()
