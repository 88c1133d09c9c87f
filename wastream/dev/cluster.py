"""The dev stack's Kafka: one node (the default) or a cluster of combined
broker+controller nodes on loopback (``wastream dev up --brokers 3``).

Node ``i`` (1-based) of ``n`` listens on ``port + i - 1`` and its controller on
``controller_port + i - 1``. A single node keeps its historical home (``kafka/``); the
nodes of a cluster live in ``kafka-1/`` … ``kafka-n/`` beside it, so switching sizes never
mixes two clusters' data. ``dev up`` records the size in ``kafka.brokers`` so that
``status``, ``env`` and ``down`` find every node without being told again.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wastream.config import KafkaSettings
from wastream.config.kafka import client_args
from wastream.dev.kafka import DevStackError, KafkaNode, kafka_cluster_id

SIZE_FILE = "kafka.brokers"


def recorded_size(home: Path) -> int | None:
    """The broker count the last ``dev up`` in ``home`` started, if any."""
    try:
        return int((home / SIZE_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class KafkaCluster:
    """``n`` KRaft nodes sharing one static controller quorum; ``n == 1`` is a lone node."""

    nodes: tuple[KafkaNode, ...]

    @classmethod
    def on_loopback(cls, home: Path, brokers: int, port: int, controller_port: int,
                    secure: bool = False) -> KafkaCluster:
        """``secure`` (SASL_SSL, ``dev up --secure``) is for a lone node only."""
        if brokers < 1:
            raise DevStackError(f"--brokers must be at least 1, not {brokers}")
        if brokers == 1:
            return cls((KafkaNode(home=home / "kafka", port=port,
                                  controller_port=controller_port, secure=secure),))
        if secure:
            raise DevStackError(f"--secure runs one broker, not {brokers}: a cluster "
                                "(--brokers N > 1) is plaintext only")
        voters = ",".join(f"{i}@127.0.0.1:{controller_port + i - 1}"
                          for i in range(1, brokers + 1))
        return cls(tuple(
            KafkaNode(home=home / f"kafka-{i}", port=port + i - 1,
                      controller_port=controller_port + i - 1, node_id=i, voters=voters,
                      replicas=min(brokers, 3))
            for i in range(1, brokers + 1)
        ))

    @property
    def home(self) -> Path:
        """The first node's home (its resolved classpath is reused by test brokers)."""
        return self.nodes[0].home

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes)

    @property
    def secure(self) -> bool:
        return self.nodes[0].secure

    @property
    def replication_factor(self) -> int:
        return self.nodes[0].replicas

    def client_env(self) -> dict[str, str]:
        """The settings of a client of this Kafka: every node's bootstrap, the lone node's
        credentials when secure, and a cluster's replication factor (on loopback the
        default would be 1; ``min.insync.replicas`` follows from it)."""
        env = {**self.nodes[0].client_env(), "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}
        if len(self.nodes) > 1:
            env["WASTREAM_REPLICATION_FACTOR"] = str(self.replication_factor)
        return env

    def client_args(self) -> dict[str, Any]:
        """aiokafka's connection arguments for this Kafka."""
        return client_args(KafkaSettings.from_env(self.client_env()))

    @property
    def log_file(self) -> Path:
        return self.nodes[0].log_file

    def pid(self) -> int | None:
        """The first node's pid (the single node's, as before clusters)."""
        return self.nodes[0].pid()

    def start(self, timeout_s: float = 120.0) -> bool:
        """Start every node that does not run, then wait until each answers; True when
        this call started any. A cluster's nodes are formatted with one cluster id, read
        back from a node formatted earlier so that a restarted node rejoins its peers."""
        started: list[tuple[KafkaNode, subprocess.Popen[bytes]]] = []
        down = [node for node in self.nodes if node.pid() is None]
        # Only a node to start needs the jars (resolving them rewrites the home's cache).
        cp = self.nodes[0].classpath() if down else ""
        cluster_id = self._cluster_id() or kafka_cluster_id()
        for node in down:
            proc = node.launch(cp, cluster_id)
            if proc is not None:
                started.append((node, proc))
        deadline = time.monotonic() + timeout_s
        for node in self.nodes:
            proc = next((p for n, p in started if n is node), None)
            node.wait_ready(max(1.0, deadline - time.monotonic()), proc)
        return bool(started)

    def _cluster_id(self) -> str | None:
        for node in self.nodes:
            meta = node.data_dir / "meta.properties"
            if meta.exists():
                for line in meta.read_text().splitlines():
                    if line.startswith("cluster.id="):
                        return line.split("=", 1)[1].strip()
        return None

    def stop(self) -> None:
        # All at once: a node stopped last, after its peers, would wait for a quorum
        # that is gone before its controlled shutdown gives up.
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(KafkaNode.stop, self.nodes))

    def healthy(self) -> bool:
        return all(node.healthy() for node in self.nodes)
