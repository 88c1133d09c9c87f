"""The embedded dev stack: a real Kafka and a real PostgreSQL on loopback, no Docker.

``wastream dev up|down|status|env``. State lives under ``WASTREAM_HOME`` (default
``.wastream/`` in the working directory's repository root). Kafka is one node unless
``dev up --brokers N`` asked for a cluster (``wastream.dev.cluster``).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wastream.config import DevSettings, Settings
from wastream.dev.cluster import SIZE_FILE, KafkaCluster, recorded_size
from wastream.dev.kafka import DevStackError
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
    kafka: KafkaCluster
    postgres: PostgresNode
    home: Path

    def up(self) -> dict[str, bool]:
        running = recorded_size(self.home)
        size = len(self.kafka.nodes)
        if running not in (None, size) and self._kafka_runs(running):
            raise DevStackError(
                f"Kafka runs here with {running} broker(s), not {size}: "
                "`wastream dev down` first (its data stays)"
            )
        if (running or 1) != size:  # no record means one node: a lone node writes none
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / SIZE_FILE).write_text(f"{size}\n")
        started_pg = self.postgres.start()
        started_kafka = self.kafka.start()
        return {"postgres": started_pg, "kafka": started_kafka}

    def _kafka_runs(self, brokers: int) -> bool:
        other = KafkaCluster.on_loopback(
            self.home, brokers, self.kafka.nodes[0].port, self.kafka.nodes[0].controller_port
        )
        return any(node.pid() is not None for node in other.nodes)

    def down(self) -> None:
        self.kafka.stop()
        self.postgres.stop()

    def env_lines(self) -> list[str]:
        """``export`` lines for a shell: the brokers (with their credentials when secure,
        with the replication factor when a cluster) and the database (the services' DSN,
        and the owner's that runs the migrations)."""
        env = {**self.kafka.client_env(), "DATABASE_URL": self.postgres.url,
               "DATABASE_OWNER_URL": self.postgres.owner_url}
        return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]


def home_of(dev: DevSettings) -> Path:
    """``WASTREAM_HOME``, else ``.wastream/`` at the root of the repository we run in."""
    return (dev.home or _repo_root(Path.cwd()) / ".wastream").resolve()


def stack_from_settings(dev: DevSettings, brokers: int | None = None,
                        secure: bool = False) -> DevStack:
    """The dev stack that ``settings.dev`` describes (its home, its ports). ``brokers``:
    Kafka's size; None: the size the last ``dev up`` here recorded, else one node. A lone
    node is the secure one when ``secure`` or when its home already holds a secure broker;
    a cluster is plaintext only (asking for both raises :class:`DevStackError`)."""
    home = home_of(dev)
    size = brokers or recorded_size(home) or 1
    if secure and size > 1:
        raise DevStackError(f"--secure runs one broker, not {size}: a cluster "
                            "(--brokers N > 1) is plaintext only")
    return DevStack(
        kafka=KafkaCluster.on_loopback(
            home,
            size,
            port=dev.kafka_port,
            controller_port=dev.kafka_controller_port or dev.kafka_port + size,
            secure=secure or (size == 1 and SecureFiles(home / "kafka" / "tls").exists()),
        ),
        postgres=PostgresNode(home=home, port=dev.pg_port),
        home=home,
    )


def stack_from_env(env: Mapping[str, str] | None = None, brokers: int | None = None,
                   secure: bool = False) -> DevStack:
    """The dev stack of ``env`` (the process environment when None)."""
    return stack_from_settings(Settings.from_env(env).dev, brokers, secure)
