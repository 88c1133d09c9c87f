"""A real Apache Kafka node (KRaft, combined broker+controller) run by the machine's Java.

One node is the default dev stack; ``wastream.dev.cluster`` runs several as one cluster.

The jars come from Maven Central through ``mvn dependency:build-classpath`` on
``kafka-pom.xml`` (they stay in Maven's local repository, so later runs and later
clones reuse them); nothing is downloaded from anywhere else.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.topics import min_insync_replicas
from wastream.config import KafkaSettings
from wastream.config.kafka import client_args
from wastream.dev import procs
from wastream.dev.secure import SecureFiles, TlsError

POM = Path(__file__).with_name("kafka-pom.xml")
MAIN_CLASS = "kafka.Kafka"

LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


class DevStackError(RuntimeError):
    """The dev stack cannot be brought up; the message says what to do."""


@dataclass(frozen=True)
class KafkaNode:
    home: Path
    port: int
    controller_port: int
    host: str = "127.0.0.1"
    #: SASL_SSL with SCRAM-SHA-512 users and a CA of its own (``wastream dev up --secure``)
    #: instead of a PLAINTEXT listener.
    secure: bool = False
    node_id: int = 1
    # The cluster's static controller quorum ("1@host:port,2@host:port"); None: this node
    # alone. ``replicas`` sizes the internal topics (offsets, transactions) for the cluster.
    voters: str | None = None
    replicas: int = 1

    @property
    def min_isr(self) -> int:
        """min.insync.replicas of the internal topics, by the rule of ours (RF-1 from 3)."""
        return min_insync_replicas(self.replicas)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def secure_files(self) -> SecureFiles:
        return SecureFiles(self.home / "tls")

    def client_env(self) -> dict[str, str]:
        """The settings of a client of this broker (the bootstrap and, when secure, the
        credentials and the CA)."""
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}
        if self.secure:
            env.update(self.secure_files.client_env())
        return env

    def client_args(self) -> dict[str, Any]:
        """aiokafka's connection arguments for this broker."""
        return client_args(KafkaSettings.from_env(self.client_env()))

    def pid(self) -> int | None:
        pid = procs.read_pid(self.pid_file)
        return pid if procs.alive(pid, MAIN_CLASS) else None

    # -- set-up -------------------------------------------------------------------

    def classpath(self) -> str:
        """Resolve (once) the broker's classpath with Maven; cached beside the pom's hash."""
        cp_file = self.home / "classpath.txt"
        stamp = self.home / "classpath.pom"
        pom = POM.read_bytes()
        if cp_file.exists() and stamp.exists() and stamp.read_bytes() == pom:
            cp = cp_file.read_text().strip()
            if all(Path(p).exists() for p in cp.split(":")):
                return cp
        if shutil.which("mvn") is None:
            raise DevStackError("Maven (mvn) is not on PATH: install it (apt-get install maven).")
        self.home.mkdir(parents=True, exist_ok=True)
        print("dev: resolving Kafka jars from Maven Central (first run only)…", flush=True)
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:build-classpath",
                f"-Dmdep.outputFile={cp_file}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DevStackError(
                "mvn could not resolve the Kafka jars:\n"
                + result.stdout[-3000:]
                + result.stderr[-3000:]
            )
        stamp.write_bytes(pom)
        return cp_file.read_text().strip()

    def write_config(self) -> None:
        # 0700: the logs hold phone numbers and message text.
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
        # The client listener is the only one clients reach; the controller's stays
        # PLAINTEXT on its own loopback port (clients never connect to it).
        listener = "SASL_SSL" if self.secure else "PLAINTEXT"
        security = self.secure_files.broker_properties(listener) if self.secure else []
        self.config_file.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    "controller.quorum.voters="
                    + (self.voters or f"{self.node_id}@{self.host}:{self.controller_port}"),
                    f"listeners={listener}://{self.host}:{self.port},"
                    f"CONTROLLER://{self.host}:{self.controller_port}",
                    f"advertised.listeners={listener}://{self.host}:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    f"inter.broker.listener.name={listener}",
                    f"listener.security.protocol.map=CONTROLLER:PLAINTEXT,{listener}:{listener}",
                    *security,
                    f"log.dirs={self.data_dir}",
                    "num.partitions=1",
                    "auto.create.topics.enable=false",
                    "delete.topic.enable=true",
                    f"default.replication.factor={self.replicas}",
                    f"min.insync.replicas={self.min_isr}",
                    f"offsets.topic.replication.factor={self.replicas}",
                    "offsets.topic.num.partitions=10",
                    f"transaction.state.log.replication.factor={self.replicas}",
                    f"transaction.state.log.min.isr={self.min_isr}",
                    "transaction.state.log.num.partitions=4",
                    f"share.coordinator.state.topic.replication.factor={self.replicas}",
                    f"share.coordinator.state.topic.min.isr={self.min_isr}",
                    "group.initial.rebalance.delay.ms=0",
                    # On loopback a dead peer is fenced (its leaders moved) after 3 s,
                    # not the default 9 s.
                    "broker.heartbeat.interval.ms=500",
                    "broker.session.timeout.ms=3000",
                    "log.segment.bytes=16777216",
                    "log.retention.hours=168",
                    "num.network.threads=2",
                    "num.io.threads=4",
                    "",
                ]
            )
        )
        (self.home / "log4j2.properties").write_text(LOG4J2)

    def java_cmd(self, cp: str, main: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise DevStackError(
                "Java is not on PATH: Kafka 4 needs Java 17+ "
                "(apt-get install openjdk-17-jre-headless)."
            )
        return [
            java,
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            cp,
            main,
            *args,
        ]

    def format_storage(self, cp: str, cluster_id: str | None = None) -> None:
        """Format the data dir once; every node of one cluster gets the same ``cluster_id``."""
        if (self.data_dir / "meta.properties").exists():
            self.data_dir.chmod(0o700)  # also a data directory made by older code
            return
        cluster_id = cluster_id or kafka_cluster_id()
        output = ""
        for _attempt in range(3):
            # On a loaded machine the tool has been seen to fail once; a half-written
            # data dir would make the next try refuse, so start each try clean.
            shutil.rmtree(self.data_dir, ignore_errors=True)
            result = subprocess.run(
                self.java_cmd(
                    cp,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self.config_file),
                    *(self.secure_files.scram_args() if self.secure else []),
                ),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode == 0:
                self.data_dir.chmod(0o700)
                return
            output += result.stdout + result.stderr
            time.sleep(1)
        raise DevStackError("Kafka storage format failed:\n" + output[-4000:])

    # -- life cycle ----------------------------------------------------------------

    def start(self, timeout_s: float = 120.0) -> bool:
        """Start the broker unless it runs; return True when this call started it."""
        if self.pid() is not None:
            self.wait_ready(timeout_s)
            return False
        proc = self.launch(self.classpath())
        self.wait_ready(timeout_s, proc)
        return proc is not None

    def launch(self, cp: str, cluster_id: str | None = None) -> subprocess.Popen[bytes] | None:
        """Start the node's process unless it runs, without waiting for it to be ready
        (a cluster's node is ready only once a quorum of its peers runs too)."""
        if self.pid() is not None:
            return None
        for port in (self.port, self.controller_port):
            if procs.port_open(self.host, port):
                raise DevStackError(
                    f"port {port} is taken by another process; "
                    "set WASTREAM_KAFKA_PORT (and WASTREAM_KAFKA_CONTROLLER_PORT) to free ports"
                )
        if self.secure:
            if (self.data_dir / "meta.properties").exists() and not self.secure_files.exists():
                raise DevStackError(
                    f"{self.home} holds a broker formatted without --secure (no SCRAM "
                    "users): use another WASTREAM_HOME for the secure stack")
            try:
                self.secure_files.make(self.host)
            except TlsError as exc:
                raise DevStackError(str(exc)) from None
        self.write_config()
        self.format_storage(cp, cluster_id)
        log = self.log_file.open("ab")
        proc = subprocess.Popen(
            self.java_cmd(cp, MAIN_CLASS, str(self.config_file)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        log.close()
        self.pid_file.write_text(str(proc.pid))
        return proc

    def wait_ready(self, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise DevStackError(f"Kafka exited with {proc.returncode}; see {self.log_file}")
            try:
                asyncio.run(metadata_ok(self.bootstrap, connection=self.client_args()))
                return
            except Exception as exc:
                last = exc
                time.sleep(0.5)
        raise DevStackError(
            f"Kafka not ready after {timeout_s:.0f}s ({last!r}); see {self.log_file}"
        )

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            procs.terminate(pid, timeout_s=30.0)
        self.pid_file.unlink(missing_ok=True)

    def healthy(self) -> bool:
        if self.pid() is None:
            return False
        try:
            asyncio.run(metadata_ok(self.bootstrap, timeout_s=5.0,
                                    connection=self.client_args()))
        except Exception:
            return False
        return True


def kafka_cluster_id() -> str:
    """A random cluster id as Kafka's own ``random-uuid`` makes (22 URL-safe base64
    characters), never starting with ``-``: the storage tool would read such an id as an
    option and fail (1 format in 64 did, with the same id on every retry)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


async def metadata_ok(
    bootstrap: str, timeout_s: float = 3.0, connection: dict[str, Any] | None = None
) -> None:
    """A real metadata round trip: the broker answers and names at least one broker
    (``connection``: wastream.config.kafka.client_args, overriding ``bootstrap``)."""
    import logging

    from aiokafka.client import AIOKafkaClient

    # While the broker boots, every attempt logs a connection error: not news here.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    client = AIOKafkaClient(**(connection or {"bootstrap_servers": bootstrap}),
                            request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
        metadata = await asyncio.wait_for(client.fetch_all_metadata(), timeout_s)
        if not metadata.brokers():
            raise DevStackError("metadata names no broker")
    finally:
        await client.close()
