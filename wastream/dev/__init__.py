"""The embedded dev stack: a real Kafka and a real PostgreSQL on loopback, no Docker.

``wastream dev up|down|status|env``. State lives under ``WASTREAM_HOME`` (default
``.wastream/`` in the working directory's repository root).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wastream.config import DevSettings, Settings
from wastream.dev.kafka import DevStackError, KafkaNode
from wastream.dev.postgres import PostgresNode

__all__ = ["DevStack", "DevStackError", "stack_from_env", "stack_from_settings"]


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
            f"export DATABASE_OWNER_URL={self.postgres.owner_url}",
        ]


def stack_from_settings(dev: DevSettings) -> DevStack:
    """The dev stack that ``settings.dev`` describes (its home, its ports)."""
    home = (dev.home or _repo_root(Path.cwd()) / ".wastream").resolve()
    return DevStack(
        kafka=KafkaNode(
            home=home / "kafka",
            port=dev.kafka_port,
            controller_port=dev.kafka_controller_port or dev.kafka_port + 1,
        ),
        postgres=PostgresNode(home=home, port=dev.pg_port),
    )


def stack_from_env(env: Mapping[str, str] | None = None) -> DevStack:
    """The dev stack of ``env`` (the process environment when None)."""
    return stack_from_settings(Settings.from_env(env).dev)
