"""Settings from the environment (12-factor): one frozen value, read once per process."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_KAFKA_PORT = 19092
DEFAULT_PG_PORT = 15432

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything a wastream process reads from its environment.

    ``topic_prefix`` is prepended verbatim to every topic name, consumer group and
    Faust app id, so that two systems (or two tests) share one broker unseen.
    ``db_schema`` is the PostgreSQL schema the projections live in.
    """

    kafka_bootstrap_servers: str = f"127.0.0.1:{DEFAULT_KAFKA_PORT}"
    database_url: str = f"postgresql://wastream:wastream@127.0.0.1:{DEFAULT_PG_PORT}/wastream"
    app_secret: str | None = None
    verify_token: str | None = None
    access_token: str | None = None
    graph_url: str | None = None
    graph_api_version: str = "v21.0"
    topic_prefix: str = ""
    admin_token: str | None = None
    db_schema: str = "wastream"
    partitions: int = 4
    replication_factor: int = 1
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        schema = env.get("WASTREAM_DB_SCHEMA", "wastream")
        if not _SCHEMA_NAME.match(schema):
            raise ConfigError(
                f"WASTREAM_DB_SCHEMA must match {_SCHEMA_NAME.pattern}, got {schema!r}"
            )
        return cls(
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS")
            or f"127.0.0.1:{_int(env, 'WASTREAM_KAFKA_PORT', DEFAULT_KAFKA_PORT)}",
            database_url=env.get("DATABASE_URL")
            or "postgresql://wastream:wastream@127.0.0.1:"
            f"{_int(env, 'WASTREAM_PG_PORT', DEFAULT_PG_PORT)}/wastream",
            app_secret=env.get("WHATSAPP_APP_SECRET") or None,
            verify_token=env.get("WHATSAPP_VERIFY_TOKEN") or None,
            access_token=env.get("WHATSAPP_ACCESS_TOKEN") or None,
            graph_url=env.get("WHATSAPP_GRAPH_URL") or None,
            graph_api_version=env.get("WHATSAPP_GRAPH_API_VERSION", "v21.0"),
            topic_prefix=env.get("WASTREAM_TOPIC_PREFIX", ""),
            admin_token=env.get("WASTREAM_ADMIN_TOKEN") or None,
            db_schema=schema,
            partitions=_int(env, "WASTREAM_PARTITIONS", 4),
            replication_factor=_int(env, "WASTREAM_REPLICATION_FACTOR", 1),
            extra={k: v for k, v in env.items() if k.startswith("WASTREAM_")},
        )

    def topic(self, name: str) -> str:
        """The broker-side name of one of our logical topics (``wa.inbound`` …)."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """The consumer group id of one of our services."""
        return f"{self.topic_prefix}{name}"

    @property
    def faust_app_id(self) -> str:
        return f"{self.topic_prefix}wastream"
