"""Fixtures only; shared helpers live in ``tests/support`` (plain modules)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from wastream.dev import stack_from_env

if TYPE_CHECKING:
    from tests.support.system import System


@pytest.fixture(scope="session")
def dev_stack() -> Iterator[dict[str, str]]:
    """Start (or reuse) the real Kafka and PostgreSQL; stop them at the end only if this
    session started them, so a developer's running stack stays up."""
    stack = stack_from_env()
    started = stack.up()
    yield {"bootstrap": stack.kafka.bootstrap, "database_url": stack.postgres.url}
    if started["kafka"]:
        stack.kafka.stop()
    if started["postgres"]:
        stack.postgres.stop()


@pytest.fixture
async def system(dev_stack: dict[str, str]) -> AsyncIterator[System]:
    """A fresh isolated system (own topic prefix, own schema) with topics created and
    migrations applied; its services are started by the test and stopped here."""
    from tests.support.system import System

    sys_ = System(bootstrap=dev_stack["bootstrap"], database_url=dev_stack["database_url"])
    await asyncio.to_thread(sys_.create_topics)
    await asyncio.to_thread(sys_.migrate)
    try:
        yield sys_
    finally:
        await sys_.teardown()
