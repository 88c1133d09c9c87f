"""The embedded dev stack: a real Kafka and a real PostgreSQL on loopback, no Docker.

``wastream dev up|down|status|env``. State lives under ``WASTREAM_HOME`` (default
``.wastream/`` in the working directory's repository root).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wastream.config import DEFAULT_KAFKA_PORT, DEFAULT_PG_PORT
from wastream.dev.kafka import DevStackError, KafkaNode
from wastream.dev.postgres import PostgresNode

__all__ = ["DevStack", "DevStackError", "stack_from_env"]


def _repo_root(start: Path) -> Path:
    for p in (start, *start.parents):
        if (p / "pyproject.toml").exists() and (p / "wastream").is_dir():
            return p
    return start


@dataclass(frozen=True)
class DevStack:
    kafka: KafkaNode
    postgres: PostgresNode

    def up(self) -> dict[str, bool]:
        started_pg = self.postgres.start()
        started_kafka = self.kafka.start()
        return {"postgres": started_pg, "kafka": started_kafka}

    def down(self) -> None:
        self.kafka.stop()
        self.postgres.stop()

    def env_lines(self) -> list[str]:
        return [
            f"export KAFKA_BOOTSTRAP_SERVERS={self.kafka.bootstrap}",
            f"export DATABASE_URL={self.postgres.url}",
        ]


def stack_from_env(env: dict[str, str] | None = None) -> DevStack:
    env = dict(os.environ if env is None else env)
    home = Path(env.get("WASTREAM_HOME") or _repo_root(Path.cwd()) / ".wastream").resolve()
    kafka_port = int(env.get("WASTREAM_KAFKA_PORT") or DEFAULT_KAFKA_PORT)
    return DevStack(
        kafka=KafkaNode(
            home=home / "kafka",
            port=kafka_port,
            controller_port=int(env.get("WASTREAM_KAFKA_CONTROLLER_PORT") or kafka_port + 1),
        ),
        postgres=PostgresNode(home=home, port=int(env.get("WASTREAM_PG_PORT") or DEFAULT_PG_PORT)),
    )
