"""The option groups of wastream's own services, one class per service or concern.

Every field names its variable (``alias``), its default, its constraints and what it
does in one line. A domain's options are not here: a domain declares its own group
(``wastream.config.components``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from schemas import topics
from wastream.config.base import Group, doc

DEFAULT_KAFKA_PORT = 19092
DEFAULT_PG_PORT = 15432
DEV_DATABASE_URL = "postgresql://wastream:wastream@127.0.0.1:{port}/wastream"
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_AGENT_FLOWS = ("general_broker", "farmer_market")

class KafkaSettings(Group):
    section = "kafka"
    title = "Kafka and topic names"

    bootstrap_servers: str = Field(
        f"127.0.0.1:{DEFAULT_KAFKA_PORT}", alias="KAFKA_BOOTSTRAP_SERVERS",
        description="Kafka brokers, comma separated; unset: the dev stack's broker "
        "(127.0.0.1:`WASTREAM_KAFKA_PORT`)")
    topic_prefix: str = Field(
        "", alias="WASTREAM_TOPIC_PREFIX",
        description="prepended to every topic, consumer group and Faust app id, so that two "
        "systems share one broker unseen", json_schema_extra=doc(shown_default="empty"))
    partitions: int = Field(
        4, ge=1, alias="WASTREAM_PARTITIONS",
        description="partitions of every topic (all co-partitioned by wa_id)")
    replication_factor: int | None = Field(
        None, ge=1, alias="WASTREAM_REPLICATION_FACTOR",
        description="replication factor of the topics `wastream topics` and Faust create; "
        "unset: 1 when every bootstrap server is on loopback (the dev stack), else 3",
        json_schema_extra=doc(shown_default="1 on loopback, else 3"))
    retention_ms: int = Field(
        topics.DEFAULT_RETENTION_MS, ge=-1, alias="WASTREAM_RETENTION_MS",
        description="`retention.ms` of every topic but the unlimited ones (wa.inbound, "
        "wa.dlq, wa.dlq.ops); -1: unlimited")
    topic_retention_ms: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict, alias="WASTREAM_TOPIC_RETENTION_MS",
        description="`retention.ms` of named topics, over the defaults above",
        json_schema_extra=doc(accepts="logical topic=ms pairs separated by commas, ms >= -1 "
                              "(e.g. wa.state=86400000,wa.outbound=-1)", shown_default="none"))
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", alias="KAFKA_SECURITY_PROTOCOL",
        description="how every Kafka client connects (wastream.config.kafka): TLS (SSL), "
        "SASL, both, or neither")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", alias="KAFKA_SASL_MECHANISM",
        description="SASL mechanism, with SASL_PLAINTEXT or SASL_SSL")
    sasl_username: str | None = Field(
        None, alias="KAFKA_SASL_USERNAME",
        description="SASL user; required with SASL_PLAINTEXT or SASL_SSL")
    sasl_password: SecretStr | None = Field(
        None, alias="KAFKA_SASL_PASSWORD",
        description="SASL password; required with SASL_PLAINTEXT or SASL_SSL")
    ssl_cafile: Path | None = Field(
        None, alias="KAFKA_SSL_CAFILE",
        description="PEM file of the CAs that sign the brokers' certificates, with SSL or "
        "SASL_SSL; unset: the system's CAs")
    ssl_certfile: Path | None = Field(
        None, alias="KAFKA_SSL_CERTFILE",
        description="PEM client certificate, for brokers that require mutual TLS")
    ssl_keyfile: Path | None = Field(
        None, alias="KAFKA_SSL_KEYFILE",
        description="PEM private key of `KAFKA_SSL_CERTFILE`")

    @field_validator("topic_retention_ms", mode="before")
    @classmethod
    def _retentions(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        out: dict[str, int] = {}
        for pair in (p.strip() for p in v.split(",") if p.strip()):
            name, sep, ms = pair.partition("=")
            if not sep or not ms.strip().lstrip("-").isdigit() or int(ms) < -1:
                raise ValueError(f"bad pair {pair!r}")
            out[name.strip()] = int(ms)
        return out

    @model_validator(mode="after")
    def _credentials_complete(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL_") and not (
                self.sasl_username and self.sasl_password):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                             "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together")
        return self


class DatabaseSettings(Group):
    section = "database"
    title = "PostgreSQL"

    url: str = Field(
        DEV_DATABASE_URL.format(port=DEFAULT_PG_PORT), alias="DATABASE_URL",
        description="PostgreSQL of the projections and the sender's ledger; unset: the dev "
        "stack's (port `WASTREAM_PG_PORT`)")
    owner_url: str | None = Field(
        None, alias="DATABASE_OWNER_URL",
        description="PostgreSQL as the role that owns the schemas: `wastream migrate`, the "
        "worker's ledger migration and `wastream replay` connect with it and grant "
        "`DATABASE_URL`'s role what the services need; unset: `DATABASE_URL`")
    db_schema: str = Field(
        "wastream", pattern=SCHEMA_NAME.pattern, alias="WASTREAM_DB_SCHEMA",
        description="PostgreSQL schema of the read models",
        json_schema_extra=doc(accepts="a schema name: a-z, 0-9 and _, not starting with a "
                              "digit, at most 63 characters"))
    analytics_key: SecretStr | None = Field(
        None, alias="WASTREAM_ANALYTICS_KEY",
        description="HMAC key of the analytics views' `user_hash` (stored by `wastream "
        "migrate`); unset: a random key, generated once and kept")


class MetaSettings(Group):
    section = "meta"
    title = "Meta (WhatsApp Cloud API)"

    app_secret: SecretStr | None = Field(
        None, alias="WHATSAPP_APP_SECRET",
        description="app secret, the HMAC key of `X-Hub-Signature-256`; required by the "
        "ingress (`--insecure-dev` skips it, dev only)")
    verify_token: SecretStr | None = Field(
        None, alias="WHATSAPP_VERIFY_TOKEN",
        description="token of Meta's `GET /webhook` subscription check; unset: every check "
        "is refused")
    access_token: SecretStr | None = Field(
        None, alias="WHATSAPP_ACCESS_TOKEN",
        description="bearer token of the Graph API; unset (or no graph URL): the sender runs "
        "dry and only logs")
    graph_url: str | None = Field(
        None, alias="WHATSAPP_GRAPH_URL",
        description="Graph API base URL, e.g. https://graph.facebook.com; unset: the sender "
        "runs dry")
    graph_api_version: str = Field(
        "v21.0", pattern=r"^v\d+\.\d+$", alias="WHATSAPP_GRAPH_API_VERSION",
        description="Graph API version in the request path",
        json_schema_extra=doc(accepts="a version such as v21.0"))
    phone_number_id: str = Field(
        "", alias="WASTREAM_PHONE_NUMBER_ID",
        description="business number the worker sends from to a user it never heard from "
        "(rare: e.g. a ride request to a driver known only from the index)")
    waba_id: str = Field(
        "", pattern=r"^\d*$", alias="WHATSAPP_WABA_ID",
        description="WhatsApp Business Account id whose message templates `wastream "
        "templates sync` lists and creates; required by it")


class IngressSettings(Group):
    section = "ingress"
    title = "Ingress (`wastream ingress`)"

    max_body_bytes: int = Field(
        3 * 1024 * 1024, ge=1, alias="WASTREAM_INGRESS_MAX_BODY_BYTES",
        description="largest webhook body accepted (413 above it)")
    produce_timeout_s: float = Field(
        5.0, gt=0, alias="WASTREAM_INGRESS_PRODUCE_TIMEOUT_S",
        description="deadline for Kafka to ack a body's records; past it the answer is 503 "
        "and Meta retries")
    linger_ms: int = Field(
        0, ge=0, alias="WASTREAM_INGRESS_LINGER_MS",
        description="producer linger of the ingress's Kafka producers")
    request_timeout_ms: int = Field(
        30_000, ge=1, alias="WASTREAM_INGRESS_REQUEST_TIMEOUT_MS",
        description="aiokafka request timeout, after which unsent records expire")
    body_timeout_s: float = Field(
        10.0, gt=0, alias="WASTREAM_INGRESS_BODY_TIMEOUT_S",
        description="deadline for a webhook body still arriving to be read whole; past it "
        "408 and the connection is closed")
    max_reading: int = Field(
        64, ge=1, alias="WASTREAM_INGRESS_MAX_READING",
        description="unverified bodies still arriving read at once; beyond it 503 (a body "
        "that arrived whole with its headers needs no slot)")
    keepalive_s: float = Field(
        75.0, gt=0, alias="WASTREAM_INGRESS_KEEPALIVE_S",
        description="an HTTP connection idle this long (or silent since it opened) is "
        "closed")
    gc_gen0: int = Field(
        20_000, ge=0, alias="WASTREAM_INGRESS_GC_GEN0",
        description="allocations between young-generation garbage collections (0: Python's "
        "default, 700)")


class WorkerSettings(Group):
    section = "worker"
    title = "Worker: the Faust app and the hole guard (`wastream worker`)"

    worker_id: str = Field(
        "", alias="WASTREAM_WORKER_ID",
        description="suffix of the worker's Faust data directory, when several workers of "
        "one app share a machine; with `WASTREAM_STATIC_MEMBERSHIP`, its name in the "
        "consumer group")
    stop_timeout_s: float = Field(
        8.0, gt=0, alias="WASTREAM_WORKER_STOP_TIMEOUT_S",
        description="after SIGTERM or SIGINT, exit this long later if the orderly stop has "
        "not finished (it waits for ever while the broker is away)")
    table_store: Literal["memory", "rocksdb"] = Field(
        "memory", alias="WASTREAM_TABLE_STORE",
        description="Faust table store; `rocksdb` needs the `rocksdb` extra")
    producer_linger_ms: float = Field(
        5.0, ge=0, alias="WASTREAM_PRODUCER_LINGER_MS",
        description="producer linger: a group's records go out in a few produce requests")
    commit_interval_s: float = Field(
        1.0, gt=0, alias="WASTREAM_COMMIT_INTERVAL_S",
        description="Faust offset commit interval")
    standby_replicas: int = Field(
        0, ge=0, alias="WASTREAM_STANDBY_REPLICAS",
        description="Faust standby replicas of the tables")
    session_timeout_s: float = Field(
        30.0, gt=0, alias="WASTREAM_SESSION_TIMEOUT_S",
        description="consumer session timeout: how soon a dead worker's partitions move "
        "(the broker's minimum is 6)")
    heartbeat_s: float = Field(
        3.0, gt=0, alias="WASTREAM_HEARTBEAT_S",
        description="consumer heartbeat interval")
    static_membership: bool = Field(
        False, alias="WASTREAM_STATIC_MEMBERSHIP",
        description="join the consumer group as a static member named "
        "`WASTREAM_WORKER_ID` (else the host name): restarted under the same name, even "
        "after a kill -9, the worker takes its partitions back at once instead of after "
        "the dead member's session timeout; but a worker stopped for good keeps its "
        "partitions idle until its session times out (no LeaveGroup), and two live "
        "workers of one name fence each other, so each name must be unique in the group")
    hole_idle_s: float = Field(
        5.0, gt=0, alias="WASTREAM_HOLE_IDLE_S",
        description="hole guard (decision 0006): a partition quiet this long while its log "
        "has more is read by the agent itself")
    hole_sweep_s: float = Field(
        2.0, gt=0, alias="WASTREAM_HOLE_SWEEP_S",
        description="hole guard: how often partitions are checked for holes")
    extra_domains: Annotated[tuple[str, ...], NoDecode] = Field(
        (), alias="WASTREAM_EXTRA_DOMAINS",
        description="business domains loaded after the registry's (module paths, e.g. a "
        "domain that lives only under tests/)", json_schema_extra=doc(
            accepts="module paths separated by commas", shown_default="none"))

    @field_validator("extra_domains", mode="before")
    @classmethod
    def _paths(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = tuple(p.strip() for p in v.split(",") if p.strip())
        return v


class ConversationSettings(Group):
    section = "conversation"
    title = "Conversation engine, agent and timers (`wastream worker`)"

    idle_timeout_s: float = Field(
        1800.0, gt=0, alias="WASTREAM_IDLE_TIMEOUT_S",
        description="a conversation idle this long expires (the next message gets the menu "
        "and a note)")
    dedupe_ttl_s: float = Field(
        7 * 86400.0, gt=0, alias="WASTREAM_DEDUPE_TTL_S",
        description="how long an event id is remembered (Meta retries for 7 days); the "
        "ingress drops updates whose Meta timestamp is older (a replayed capture)")
    dedupe_sweep_s: float = Field(
        60.0, gt=0, alias="WASTREAM_DEDUPE_SWEEP_S",
        description="how often expired event ids are deleted from the `chat_seen` table "
        "(at most 5,000 per sweep)")
    dedupe_rescan_s: float = Field(
        3600.0, gt=0, alias="WASTREAM_DEDUPE_RESCAN_S",
        description="how often every `chat_seen` entry is looked at again (and whenever "
        "the assignment changes)")
    service_window_s: float = Field(
        86400.0, gt=0, alias="WASTREAM_SERVICE_WINDOW_S",
        description="Meta's customer-service window: a user who last wrote this long ago "
        "gets a notification as its template (free-form would fail with 131047)")
    tz: str = Field(
        "Africa/Kigali", alias="WASTREAM_TZ",
        description="time zone of the times users type and are shown",
        json_schema_extra=doc(accepts="an IANA time zone such as Africa/Kigali"))
    output_acks: Literal["wait", "buffered"] = Field(
        "wait", alias="WASTREAM_OUTPUT_ACKS",
        description="`buffered`: store states without waiting for the acks of their effects "
        "(faster; a crash may lose effects whose state was stored)")
    isolated_partitions: bool = Field(
        False, alias="WASTREAM_ISOLATED_PARTITIONS",
        description="one actor per partition, each under its own lock, instead of one for "
        "all (order per user kept): one partition's wait for acks no longer holds up the "
        "others; it pays only when acks are slow (on one local broker its groups are much "
        "smaller and `bench.workflows` measured it slower than one actor)")
    group_max: int = Field(
        500, ge=1, alias="WASTREAM_GROUP_MAX",
        description="group commit: most events processed before their effects' acks are "
        "awaited and their states written (a group also ends when the agent has caught up)")
    group_linger_ms: float = Field(
        50.0, gt=0, alias="WASTREAM_GROUP_LINGER_MS",
        description="group commit: a group still open this long after its last event is "
        "settled by a timer")
    timer_tick_s: float = Field(
        1.0, gt=0, alias="WASTREAM_TIMER_TICK_S",
        description="period of the task that fires due conversation timers")
    timer_rescan_s: float = Field(
        300.0, gt=0, alias="WASTREAM_TIMER_RESCAN_S",
        description="period of the safety-net rescan of the deadlines in the conversation "
        "table, read in slices (the index is also rebuilt after each rebalance and recovery)")

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return v


class FailureSettings(Group):
    section = "failure"
    title = "Failures: retry tiers, breakers, fault injection (`wastream worker`)"

    retry_delays: Annotated[tuple[int, ...], NoDecode] = Field(
        topics.DEFAULT_RETRY_DELAYS_S, alias="WASTREAM_RETRY_DELAYS",
        description="retry tiers (one topic each); a record failing past the last one is "
        "dead-lettered", json_schema_extra=doc(
            accepts="delays separated by commas, each > 0, in s, m or h (e.g. 1m,2m,4m)",
            shown_default="`1m,2m,4m`"))
    conversation_breaker_failures: int = Field(
        5, ge=1, alias="WASTREAM_CONVERSATION_BREAKER_FAILURES",
        description="consecutive failures of one key (a user's conversation; in the sender, "
        "one recipient) that open its breaker: its records then wait in a retry tier "
        "without spending retries")
    conversation_breaker_open_s: float = Field(
        60.0, gt=0, alias="WASTREAM_CONVERSATION_BREAKER_OPEN_S",
        description="how long a key's breaker stays open before a probe")
    parked_max: int = Field(
        10_000, ge=1, alias="WASTREAM_PARKED_MAX",
        description="records parked behind one key's retrying head; past it a record is "
        "dead-lettered as `ParkedOverflow` (visible and redrivable), so one flooding user "
        "never holds up the others")
    mark_read: bool = Field(
        False, alias="WASTREAM_MARK_READ",
        description="send read receipts for handled messages on `wa.outbound`")
    faults: str = Field(
        "", alias="WASTREAM_FAULTS",
        description="fault injection for tests and drills: JSON list of rules matched "
        "against raw records (`standins/faults.py`)",
        json_schema_extra=doc(accepts='a JSON list of rules such as [{"kind": "transient", '
                              '"match": "boom", "attempts": 2}]'))

    @field_validator("retry_delays", mode="before")
    @classmethod
    def _parse_delays(cls, v: Any) -> Any:
        delays = topics.parse_delays(v) if isinstance(v, str) else v
        if not delays or any(d <= 0 for d in delays):
            raise ValueError("delays must be > 0")
        return delays

    @field_validator("faults")
    @classmethod
    def _rules(cls, v: str) -> str:
        if v:
            rules = orjson.loads(v)
            if not isinstance(rules, list) or not all(
                    isinstance(r, dict) and r.get("kind") in ("transient", "permanent")
                    for r in rules):
                raise ValueError("not a list of rules")
        return v


class SenderSettings(Group):
    section = "sender"
    title = "Sender: delivery to the Graph API (`wastream worker`)"

    rate: float = Field(
        80.0, gt=0, alias="WASTREAM_SENDER_RATE",
        description="messages per second per business number (Meta's throughput limit)")
    recipient_rate: float = Field(
        1 / 6, gt=0, alias="WASTREAM_SENDER_RECIPIENT_RATE",
        description="messages per second to one recipient (Meta's pair rate limit)",
        json_schema_extra=doc(shown_default="`0.1667` (one per 6 s)"))
    recipient_burst: float = Field(
        10.0, ge=1, alias="WASTREAM_SENDER_RECIPIENT_BURST",
        description="messages to one recipient that may go at once before the rate applies")
    isolated: bool = Field(
        True, alias="WASTREAM_SENDER_ISOLATED",
        description="one sender actor per partition (0: one for all, the benchmark's "
        "baseline)")
    graph_timeout_s: float = Field(
        10.0, gt=0, alias="WASTREAM_GRAPH_TIMEOUT_S",
        description="timeout of one Graph API request")
    graph_breaker_failures: int = Field(
        5, ge=1, alias="WASTREAM_GRAPH_BREAKER_FAILURES",
        description="consecutive transient Graph API failures that open its breaker")
    graph_breaker_open_s: float = Field(
        60.0, gt=0, alias="WASTREAM_GRAPH_BREAKER_OPEN_S",
        description="how long the Graph API breaker stays open before a probe")
    ledger_outage_s: float = Field(
        60.0, gt=0, alias="WASTREAM_SENDER_LEDGER_OUTAGE_S",
        description="how long a claim in the sender's ledger waits for PostgreSQL to come "
        "back before the message goes to the retry tiers (a settle after a POST Meta "
        "accepted waits as long as it takes)")
    template_unknown: Literal["hold", "send"] = Field(
        "hold", alias="WASTREAM_TEMPLATE_UNKNOWN",
        description="a template whose status `wa.templates` never reported: `hold` it "
        "like a paused one (a dead letter `template_unavailable`, released when a status "
        "webhook or `wastream templates sync --publish` reports it APPROVED) or `send` it "
        "anyway")


class ProjectorSettings(Group):
    section = "projector"
    title = "Projector (`wastream project`, `wastream replay`)"

    batch_max: int = Field(
        5000, ge=1, alias="WASTREAM_PROJECTOR_BATCH",
        description="most records written in one transaction")
    linger_ms: int = Field(
        200, ge=0, alias="WASTREAM_PROJECTOR_LINGER_MS",
        description="a batch is written at the latest this long after its first record")
    backoff_max_s: float = Field(
        10.0, gt=0, alias="WASTREAM_PROJECTOR_BACKOFF_MAX_S",
        description="longest wait between retries while PostgreSQL is away")
    session_timeout_ms: int = Field(
        10_000, ge=1, alias="WASTREAM_PROJECTOR_SESSION_TIMEOUT_MS",
        description="consumer session timeout: how soon a crashed projector's partitions "
        "move to the others")
    agent_flows: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_AGENT_FLOWS, alias="WASTREAM_AGENT_FLOWS",
        description="flows whose sessions the `agent_sessions` read model keeps",
        json_schema_extra=doc(accepts="flow names separated by commas"))

    @property
    def linger_s(self) -> float:
        return self.linger_ms / 1000

    @field_validator("agent_flows", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = tuple(n.strip() for n in v.split(",") if n.strip())
        if not v:
            raise ValueError("no flow")
        return v


class DlqSettings(Group):
    section = "dlq"
    title = "Dead letters and the admin API (`wastream dlq`)"

    admin_token: SecretStr | None = Field(
        None, alias="WASTREAM_ADMIN_TOKEN",
        description="bearer token of the admin API; unset: every request gets 401")
    auto_redrive_s: float | None = Field(
        None, gt=0, alias="WASTREAM_DLQ_AUTO_REDRIVE_S",
        description="`dlq serve` redrives transient-class letters older than this; unset: "
        "no automatic redrive")
    auto_interval_s: float = Field(
        60.0, gt=0, alias="WASTREAM_DLQ_AUTO_INTERVAL_S",
        description="period of the automatic redrive")


class DevSettings(Group):
    section = "dev"
    title = "Local state and the dev stack (`wastream dev`, `wastream run`)"

    home: Path | None = Field(
        None, alias="WASTREAM_HOME",
        description="dev stack state (data, logs) and the worker's Faust data; unset: "
        "`.wastream/` at the repository root for the dev stack, the temp dir for the worker")
    kafka_port: int = Field(
        DEFAULT_KAFKA_PORT, ge=1, le=65535, alias="WASTREAM_KAFKA_PORT",
        description="port of the dev stack's Kafka broker (`dev up --brokers N`: the first "
        "of N consecutive ports)")
    kafka_controller_port: int | None = Field(
        None, ge=1, le=65535, alias="WASTREAM_KAFKA_CONTROLLER_PORT",
        description="port of the dev stack's KRaft controller (the first of N with "
        "`--brokers N`); unset: `WASTREAM_KAFKA_PORT` + N")
    pg_port: int = Field(
        DEFAULT_PG_PORT, ge=1, le=65535, alias="WASTREAM_PG_PORT",
        description="port of the dev stack's PostgreSQL")


class ObservabilitySettings(Group):
    section = "observability"
    title = "Logs and metrics"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", alias="WASTREAM_LOG_LEVEL",
        description="log level of every service (ingress, worker, projector, `dlq serve`); "
        "phone numbers and message text only at DEBUG")
    log_format: Literal["json", "text"] = Field(
        "json", alias="WASTREAM_LOG_FORMAT",
        description="log lines on stderr: `json` (one object per line, with `correlation_id` "
        "and `event_id`) or `text`")
    health_port: int | None = Field(
        None, ge=1, le=65535, alias="WASTREAM_HEALTH_PORT",
        description="each service (ingress, worker, projector, `dlq serve`) serves "
        "`/healthz`, `/readyz` and Prometheus `/metrics` on this port; unset: no such "
        "endpoint (so services started side by side never collide; give each its own)")
    health_host: str = Field(
        "127.0.0.1", alias="WASTREAM_HEALTH_HOST",
        description="bind address of the health and metrics endpoint")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v


class AgentSettings(Group):
    section = "agent"
    title = "The AI agent: an OpenAI-compatible endpoint that understands free text"

    url: str = Field(
        "", alias="WASTREAM_AGENT_URL",
        description="base URL of an OpenAI-compatible chat-completions endpoint, with its "
        "`/v1`; unset: the rule-based backend alone", json_schema_extra=doc(
            shown_default="unset"))
    model: str = Field(
        "", alias="WASTREAM_AGENT_MODEL",
        description="model name sent to the endpoint; required when `WASTREAM_AGENT_URL` is "
        "set", json_schema_extra=doc(shown_default="unset"))
    api_key: SecretStr | None = Field(
        None, alias="WASTREAM_AGENT_API_KEY",
        description="bearer token of the endpoint; unset: no Authorization header")
    timeout_s: float = Field(
        10.0, gt=0, alias="WASTREAM_AGENT_TIMEOUT_S",
        description="timeout of one call; past it the call failed (transient)")
    breaker_failures: int = Field(
        5, ge=1, alias="WASTREAM_AGENT_BREAKER_FAILURES",
        description="consecutive failed calls that open the agent's breaker (the rules "
        "answer while it is open)")
    breaker_open_s: float = Field(
        60.0, gt=0, alias="WASTREAM_AGENT_BREAKER_OPEN_S",
        description="how long the agent's breaker stays open before a probe")


class MediaSettings(Group):
    section = "media"
    title = "Media: inbound downloads and outbound uploads (`wastream worker`)"

    dir: Path | None = Field(
        None, alias="WASTREAM_MEDIA_DIR",
        description="directory of the content-addressed media store; unset: `media/` under "
        "`WASTREAM_HOME`, else `.wastream/media`", json_schema_extra=doc(shown_default="unset"))
    download: bool = Field(
        True, alias="WASTREAM_MEDIA_DOWNLOAD",
        description="download inbound media into the store (0: keep Meta's ids only); needs "
        "`WHATSAPP_GRAPH_URL` and `WHATSAPP_ACCESS_TOKEN`")
    timeout_s: float = Field(
        60.0, gt=0, alias="WASTREAM_MEDIA_TIMEOUT_S",
        description="timeout of one media request (metadata, download or upload)")

    store: Literal["local", "s3"] = Field(
        "local", alias="WASTREAM_MEDIA_STORE",
        description="where media objects live: `local` (`WASTREAM_MEDIA_DIR`) or `s3` (an "
        "S3-compatible bucket: the `WASTREAM_MEDIA_S3_*` settings)")
    s3_bucket: str | None = Field(
        None, alias="WASTREAM_MEDIA_S3_BUCKET",
        description="the bucket of the `s3` store (required by it; created by its owner)")
    s3_endpoint_url: str | None = Field(
        None, alias="WASTREAM_MEDIA_S3_ENDPOINT_URL",
        description="base URL of the S3-compatible service, path-style (e.g. "
        "http://127.0.0.1:9000); unset: `https://s3.<region>.amazonaws.com`",
        json_schema_extra=doc(shown_default="unset"))
    s3_region: str = Field(
        "us-east-1", alias="WASTREAM_MEDIA_S3_REGION",
        description="the region requests are signed for (AWS Signature Version 4)")
    s3_access_key_id: str | None = Field(
        None, alias="WASTREAM_MEDIA_S3_ACCESS_KEY_ID",
        description="access key id of the `s3` store (required by it)")
    s3_secret_access_key: SecretStr | None = Field(
        None, alias="WASTREAM_MEDIA_S3_SECRET_ACCESS_KEY",
        description="secret access key of the `s3` store (required by it)")

    @model_validator(mode="after")
    def _s3_complete(self) -> MediaSettings:
        if self.store == "s3":
            missing = [name for name, v in (
                ("WASTREAM_MEDIA_S3_BUCKET", self.s3_bucket),
                ("WASTREAM_MEDIA_S3_ACCESS_KEY_ID", self.s3_access_key_id),
                ("WASTREAM_MEDIA_S3_SECRET_ACCESS_KEY", self.s3_secret_access_key)) if not v]
            if missing:
                raise ValueError(f"WASTREAM_MEDIA_STORE=s3 needs {', '.join(missing)}")
        return self

    def store_dir(self, home: Path | None) -> Path:
        """Where the local store keeps its objects."""
        if self.dir is not None:
            return self.dir
        return (home or Path(".wastream")) / "media"


CORE_GROUPS: tuple[type[Group], ...] = (
    KafkaSettings, DatabaseSettings, MetaSettings, IngressSettings, WorkerSettings,
    ConversationSettings, FailureSettings, SenderSettings, ProjectorSettings, DlqSettings,
    DevSettings, ObservabilitySettings, AgentSettings, MediaSettings)
