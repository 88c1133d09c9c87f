"""The Faust app of a wastream worker: its topics and tables, built from ``Settings``.

Everything is named through ``settings`` so that two systems (two tests) share one
broker unseen: topics via ``settings.topic``, the app id (= consumer group, = prefix of
the changelog topics) via ``settings.faust_app_id``.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust

from schemas import topics
from streams.engine.model import Options
from streams.runtime import faust_internals
from wastream.config import Settings
from wastream.config.kafka import faust_credentials


def _raw_topic(app: faust.App, settings: Settings, logical: str) -> Any:
    return app.topic(
        settings.topic(logical),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def data_dir(settings: Settings) -> Path:
    """Faust's local data (RocksDB files) under WASTREAM_HOME, else a temp dir; keyed by
    app id (and WASTREAM_WORKER_ID when several workers of one app share a machine)."""
    base = settings.dev.home or tempfile.gettempdir()
    worker = settings.worker.worker_id
    name = settings.faust_app_id.replace("/", "_") + (f".{worker}" if worker else "")
    return Path(base) / "faust" / name


def group_instance_id(settings: Settings) -> str | None:
    """The worker's static member name in the consumer group (KIP-345), or None for a
    dynamic member: with ``WASTREAM_STATIC_MEMBERSHIP``, ``WASTREAM_WORKER_ID`` or else
    the host name (a StatefulSet pod's name survives its restarts)."""
    w = settings.worker
    if not w.static_membership:
        return None
    return w.worker_id or socket.gethostname()


@dataclass
class Runtime:
    """The app and what its agents share."""

    app: faust.App
    settings: Settings
    opts: Options
    inbound: Any
    outbound: Any
    state: Any
    domain: Any
    delivery: Any
    recovery: Any
    templates: Any
    chat_state: Any
    #: Creates the database tables the worker writes itself (the sender's ledger) when
    #: they are missing; ``wastream worker`` passes the migrations (None: not created).
    prepare_db: Callable[[Settings], Awaitable[object]] | None = None


def create_app(settings: Settings) -> Runtime:
    """Build the app, its topics and the ``chat_state`` table (changelog-backed)."""
    w = settings.worker
    store = f"{w.table_store}://"
    brokers = [
        f"kafka://{b.strip()}" for b in settings.kafka_bootstrap_servers.split(",") if b.strip()
    ]
    if w.table_store == "rocksdb":
        faust_internals.file_writes_by_key()
    ddir = data_dir(settings)
    ddir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.faust_app_id,
        broker=brokers,
        broker_credentials=faust_credentials(settings.kafka),
        store=store,
        datadir=str(ddir),
        autodiscover=False,
        web_enabled=False,  # no port 6066 clash between parallel workers
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # Records of one group go out in a few produce requests instead of one each.
        producer_linger=w.producer_linger_ms / 1000,
        processing_guarantee="at_least_once",
        broker_commit_interval=w.commit_interval_s,
        table_standby_replicas=w.standby_replicas,
        # How fast a dead worker's partitions move to the others (tests use ~6 s; the
        # broker's group.min.session.timeout.ms is 6 s by default).
        broker_session_timeout=w.session_timeout_s,
        broker_heartbeat_interval=w.heartbeat_s,
        # A static member that rejoins under its name replaces its dead self at once; a
        # dynamic one waits for the dead member's session to time out (decision 0021).
        consumer_group_instance_id=group_instance_id(settings),
    )
    # use_partitioner: the changelog partition comes from the key (murmur2, as for every
    # record on wa.inbound, which is keyed by wa_id), not from the event being processed:
    # the conversation agent writes a group's states after the group, outside any one
    # event (streams/conversation.py).
    chat_state = app.Table(
        "chat_state",
        default=None,
        key_type=bytes,
        value_type=bytes,
        partitions=settings.partitions,
        use_partitioner=True,
    )
    # Values are our own orjson bytes; Faust would pick "json" for a non-model type.
    chat_state.key_serializer = chat_state.value_serializer = "raw"  # type: ignore[attr-defined]
    return Runtime(
        app=app,
        settings=settings,
        opts=Options.from_settings(settings.conversation),
        inbound=_raw_topic(app, settings, topics.INBOUND),
        outbound=_raw_topic(app, settings, topics.OUTBOUND),
        state=_raw_topic(app, settings, topics.STATE),
        domain=_raw_topic(app, settings, topics.DOMAIN),
        delivery=_raw_topic(app, settings, topics.DELIVERY),
        recovery=_raw_topic(app, settings, topics.RECOVERY),
        templates=_raw_topic(app, settings, topics.TEMPLATES),
        chat_state=chat_state,
    )
