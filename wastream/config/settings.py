"""``Settings``: every option group of a process, read from its environment once."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import SecretStr

from wastream.config.base import ConfigError, Group
from wastream.config.groups import (
    CORE_GROUPS,
    DEV_DATABASE_URL,
    AgentSettings,
    ConversationSettings,
    DatabaseSettings,
    DevSettings,
    DlqSettings,
    FailureSettings,
    IngressSettings,
    KafkaSettings,
    MediaSettings,
    MetaSettings,
    ObservabilitySettings,
    ProjectorSettings,
    SenderSettings,
    WorkerSettings,
)

G = TypeVar("G", bound=Group)


def adopt(values: Mapping[str, str]) -> list[str]:
    """Add to the process environment the variables of ``values`` it lacks (or has empty),
    so that every later ``Settings.from_env()`` sees them; return their names. This is
    how one-shot commands take what ``wastream run`` generated (wastream.runenv)."""
    added = [name for name, value in values.items() if not os.environ.get(name)]
    for name in added:
        os.environ[name] = values[name]
    return added


def reveal(secret: SecretStr | None) -> str | None:
    """The value of a secret setting (None when unset), for the one place that uses it."""
    return None if secret is None else secret.get_secret_value()


@dataclass(frozen=True)
class Settings:
    """Everything a wastream process reads from its environment, one group per service.

    Each reader takes its typed group (``settings.sender.rate``); the names every service
    shares have shortcuts (``topic``, ``group``, ``faust_app_id``, the Kafka and database
    identity below). A component's own group (a domain's options) is read with
    :meth:`options`."""

    kafka: KafkaSettings
    database: DatabaseSettings
    meta: MetaSettings
    ingress: IngressSettings
    worker: WorkerSettings
    conversation: ConversationSettings
    failure: FailureSettings
    sender: SenderSettings
    projector: ProjectorSettings
    dlq: DlqSettings
    dev: DevSettings
    observability: ObservabilitySettings
    agent: AgentSettings
    media: MediaSettings
    # The environment the groups were read from: component groups are read from it on
    # first use (``options``) and ``wastream config`` tells set values from defaults.
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    _components: dict[type[Group], Group] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every core group from ``env`` (the process environment when None).
        Raises :class:`ConfigError` with one line per bad variable."""
        env = dict(os.environ if env is None else env)
        read: dict[type[Group], Group] = {}
        problems: list[str] = []
        for group_cls in CORE_GROUPS:
            try:
                read[group_cls] = group_cls.from_env(env)
            except ConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError("\n".join(problems))

        def get(group_cls: type[G]) -> G:
            got = read[group_cls]
            assert isinstance(got, group_cls)
            return got

        dev, kafka, database = get(DevSettings), get(KafkaSettings), get(DatabaseSettings)
        # The broker and database default to the dev stack's, whose ports are settings too.
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            kafka = kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{dev.kafka_port}"})
        if not env.get("DATABASE_URL"):
            database = database.model_copy(
                update={"url": DEV_DATABASE_URL.format(port=dev.pg_port)})
        return cls(kafka=kafka, database=database, meta=get(MetaSettings),
                   ingress=get(IngressSettings), worker=get(WorkerSettings),
                   conversation=get(ConversationSettings), failure=get(FailureSettings),
                   sender=get(SenderSettings), projector=get(ProjectorSettings),
                   dlq=get(DlqSettings), dev=dev, observability=get(ObservabilitySettings),
                   agent=get(AgentSettings), media=get(MediaSettings),
                   env=env)

    def options(self, group_cls: type[G]) -> G:
        """A component's option group (e.g. a domain's), read from the same environment on
        first use. Raises :class:`ConfigError` naming each bad variable."""
        got = self._components.get(group_cls)
        if got is None:
            got = self._components[group_cls] = group_cls.from_env(self.env)
        assert isinstance(got, group_cls)
        return got

    def core_groups(self) -> list[Group]:
        """The core groups, in the order ``wastream config`` prints them."""
        return [getattr(self, g.section) for g in CORE_GROUPS]

    # -- what every service shares ----------------------------------------------------

    def topic(self, name: str) -> str:
        """The broker-side name of one of our logical topics (``wa.inbound`` …)."""
        return f"{self.kafka.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """The consumer group id of one of our services."""
        return f"{self.kafka.topic_prefix}{name}"

    @property
    def faust_app_id(self) -> str:
        return f"{self.kafka.topic_prefix}wastream"

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers

    @property
    def topic_prefix(self) -> str:
        return self.kafka.topic_prefix

    @property
    def partitions(self) -> int:
        return self.kafka.partitions

    @property
    def replication_factor(self) -> int:
        """``WASTREAM_REPLICATION_FACTOR``, else 1 for a broker on loopback (the dev stack,
        tests' brokers) and 3 for a real cluster."""
        if self.kafka.replication_factor is not None:
            return self.kafka.replication_factor
        hosts = [b.strip().rsplit(":", 1)[0].strip("[]")
                 for b in self.kafka.bootstrap_servers.split(",") if b.strip()]
        loopback = all(h in ("localhost", "::1") or h.startswith("127.") for h in hosts)
        return 1 if loopback else 3

    @property
    def database_url(self) -> str:
        return self.database.url

    @property
    def database_owner_url(self) -> str:
        """The DSN of the schemas' owner (migrations, replays); ``database_url`` unless
        ``DATABASE_OWNER_URL`` is set."""
        return self.database.owner_url or self.database.url

    def as_owner(self) -> Settings:
        """These settings with the owner's DSN as ``database_url`` (for what runs DDL)."""
        if self.database.owner_url is None:
            return self
        return dataclasses.replace(
            self, database=self.database.model_copy(update={"url": self.database.owner_url}))

    @property
    def db_schema(self) -> str:
        return self.database.db_schema
