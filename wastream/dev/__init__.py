"""The embedded dev stack: a real Kafka and a real PostgreSQL on loopback, no Docker.

``wastream dev up|down|status|env``. State lives under ``WASTREAM_HOME`` (default
``.wastream/`` in the working directory's repository root).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wastream.config import DevSettings, Settings
from wastream.dev.kafka import DevStackError, KafkaNode
from wastream.dev.postgres import PostgresNode
from wastream.dev.secure import SecureFiles

__all__ = ["DevStack", "DevStackError", "home_of", "stack_from_env", "stack_from_settings"]


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
        """``export`` lines for a shell: the broker (with its credentials when secure) and
        the database (the services' DSN, and the owner's that runs the migrations)."""
        env = {**self.kafka.client_env(), "DATABASE_URL": self.postgres.url,
               "DATABASE_OWNER_URL": self.postgres.owner_url}
        return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]


def home_of(dev: DevSettings) -> Path:
    """``WASTREAM_HOME``, else ``.wastream/`` at the root of the repository we run in."""
    return (dev.home or _repo_root(Path.cwd()) / ".wastream").resolve()


def stack_from_settings(dev: DevSettings, secure: bool = False) -> DevStack:
    """The dev stack that ``settings.dev`` describes (its home, its ports); its Kafka is
    the secure one when ``secure`` or when the home already holds a secure broker."""
    home = home_of(dev)
    kafka_home = home / "kafka"
    return DevStack(
        kafka=KafkaNode(
            home=kafka_home,
            port=dev.kafka_port,
            controller_port=dev.kafka_controller_port or dev.kafka_port + 1,
            secure=secure or SecureFiles(kafka_home / "tls").exists(),
        ),
        postgres=PostgresNode(home=home, port=dev.pg_port),
    )


def stack_from_env(env: Mapping[str, str] | None = None, secure: bool = False) -> DevStack:
    """The dev stack of ``env`` (the process environment when None)."""
    return stack_from_settings(Settings.from_env(env).dev, secure=secure)
