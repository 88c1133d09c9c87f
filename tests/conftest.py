"""Fixtures only; shared helpers live in ``tests/support`` (plain modules).

Markers follow the fixtures: every test that reaches a real Kafka or PostgreSQL does so
through ``real_servers`` (``dev_stack``, ``system``, ``private_kafka``,
``kafka_cluster`` and ``private_postgres`` depend on it),
and the hook below marks exactly those tests ``integration``. A fast run
(``WASTREAM_TEST_FAST=1``, set by ``make test-fast``) refuses ``real_servers`` outright, so
a test that reaches it anyway fails loudly instead of starting or using a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from wastream.dev import stack_from_env

if TYPE_CHECKING:
    from tests.support.pg import ThrowawayPostgres
    from tests.support.system import System
    from wastream.dev.cluster import KafkaCluster
    from wastream.dev.kafka import KafkaNode

pytest_plugins = ("pytester",)  # tests/test_markers.py runs pytest on throwaway test files

FAST_RUN = "WASTREAM_TEST_FAST"
SERVERS = "real_servers"


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``integration`` every test that (through any fixture) needs a real server."""
    for item in items:
        if SERVERS in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def real_servers() -> None:
    """The gate of every real Kafka and PostgreSQL a test gets; refused in a fast run."""
    if os.environ.get(FAST_RUN) == "1":
        pytest.fail(f"{FAST_RUN}=1 (make test-fast: no broker, no database), yet this test "
                    "asked for a real Kafka or PostgreSQL. Request it through a fixture "
                    f"that depends on {SERVERS!r} (dev_stack, system, private_kafka) so "
                    "that it is marked integration and left out of the fast run.",
                    pytrace=False)


@pytest.fixture(scope="session")
def dev_stack(real_servers: None) -> Iterator[dict[str, str]]:
    """Start (or reuse) the real Kafka and PostgreSQL; stop them at the end only if this
    session started them, so a developer's running stack stays up."""
    stack = stack_from_env()
    started = stack.up()
    # The services' DSN and the schemas' owner's (the same role on a stack of older code).
    yield {"bootstrap": stack.kafka.bootstrap, "database_url": stack.postgres.url,
           "database_owner_url": stack.postgres.owner_url}
    if started["kafka"]:
        stack.kafka.stop()
    if started["postgres"]:
        stack.postgres.stop()


@pytest.fixture
async def system(dev_stack: dict[str, str]) -> AsyncIterator[System]:
    """A fresh isolated system (own topic prefix, own schema) with topics created and
    migrations applied; its services are started by the test and stopped here."""
    from tests.support.system import System

    sys_ = System(bootstrap=dev_stack["bootstrap"], database_url=dev_stack["database_url"],
                  database_owner_url=dev_stack["database_owner_url"])
    await asyncio.to_thread(sys_.create_topics)
    await asyncio.to_thread(sys_.migrate)
    try:
        yield sys_
    finally:
        await sys_.teardown()


@pytest.fixture
def private_kafka(real_servers: None, tmp_path: Path) -> Iterator[KafkaNode]:
    """A Kafka broker of the test's own, on free ports, not started yet (for tests that
    must stop a broker: never the shared one); stopped at the end. It reuses the shared
    stack's resolved classpath (same pom), so no Maven run is needed."""
    from tests.support.system import free_port
    from wastream.dev.kafka import KafkaNode

    home = tmp_path / "kafka"
    home.mkdir(parents=True)
    shared = stack_from_env().kafka.home
    for name in ("classpath.txt", "classpath.pom"):
        if (shared / name).exists():
            shutil.copy(shared / name, home / name)
    node = KafkaNode(home=home, port=free_port(), controller_port=free_port())
    try:
        yield node
    finally:
        with contextlib.suppress(Exception):
            node.stop()


@pytest.fixture
def kafka_cluster(real_servers: None, tmp_path: Path) -> Iterator[KafkaCluster]:
    """A three-node KRaft cluster of the test's own (RF 3, min.insync.replicas 2) on free
    loopback ports, started; stopped at the end. Its nodes may be killed and restarted
    (``cluster.start()`` restarts the ones that are down)."""
    from tests.support.system import free_port_run
    from wastream.dev.cluster import KafkaCluster

    home = tmp_path / "cluster"
    (home / "kafka-1").mkdir(parents=True)
    shared = stack_from_env().kafka.home
    for name in ("classpath.txt", "classpath.pom"):
        if (shared / name).exists():
            shutil.copy(shared / name, home / "kafka-1" / name)
    cluster = KafkaCluster.on_loopback(home, 3, port=free_port_run(3),
                                       controller_port=free_port_run(3))
    try:
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()


@pytest.fixture
def throwaway_pg(real_servers: None) -> Iterator[ThrowawayPostgres]:
    """A private PostgreSQL this test may restart (never the shared dev stack's)."""
    from tests.support.pg import throwaway_postgres

    with throwaway_postgres() as pg:
        yield pg
