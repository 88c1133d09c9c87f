"""A private, real Kafka broker for tests that must stop a broker (never the shared one)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.system import REPO, free_port
from wastream.dev.kafka import KafkaNode


def private_kafka(home: Path) -> KafkaNode:
    """A KafkaNode in ``home`` on free ports; reuses the shared stack's resolved classpath
    (same pom) so that no Maven run is needed."""
    home.mkdir(parents=True, exist_ok=True)
    shared = REPO / ".wastream" / "kafka"
    for name in ("classpath.txt", "classpath.pom"):
        if (shared / name).exists():
            shutil.copy(shared / name, home / name)
    return KafkaNode(home=home, port=free_port(), controller_port=free_port())
