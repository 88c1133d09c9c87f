"""A private PostgreSQL cluster from the distribution's packages, on loopback.

``initdb`` refuses to run as root, so when we are root the cluster belongs to the
``postgres`` user that the ``postgresql`` package creates, and every server
command runs as that user.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from wastream.dev import procs
from wastream.dev.kafka import DevStackError

DB = "wastream"
ROLE = "wastream"
PASSWORD = "wastream"  # noqa: S105 - a loopback-only dev cluster


def pg_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` that has ``initdb``."""
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    versions = sorted(
        (p for p in root.iterdir() if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    return versions[-1] / "bin" if versions else None


def ensure_installed() -> Path:
    """Find PostgreSQL's server binaries, installing Debian's package when we may."""
    bindir = pg_bindir()
    if bindir is not None:
        return bindir
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DevStackError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql and cannot be "
            "installed from here: run `sudo apt-get install postgresql` (or point DATABASE_URL "
            "at an existing server and skip the dev stack)."
        )
    print("dev: installing PostgreSQL with apt-get (first run only)…", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]
    if subprocess.run(install, env=env, check=False, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True)
        result = subprocess.run(install, env=env, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise DevStackError("apt-get install postgresql failed:\n" + result.stderr[-3000:])
    bindir = pg_bindir()
    if bindir is None:
        raise DevStackError("postgresql was installed but no initdb was found")
    return bindir


def _traversable_by(user: str, path: Path) -> bool:
    result = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-w", str(path)], check=False, capture_output=True
    )
    return result.returncode == 0


@dataclass(frozen=True)
class PostgresNode:
    home: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def cluster_dir(self) -> Path:
        """Where the cluster lives: under the project's cache when the server's user may
        reach it, else under /var/lib/wastream (the repo may sit in /root, which the
        ``postgres`` user cannot enter)."""
        own = self.home / "pg"
        if not self.as_root:
            return own
        own.mkdir(parents=True, exist_ok=True)
        shutil.chown(own, "postgres", "postgres")
        if _traversable_by("postgres", own):
            return own
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]  # noqa: S324
        alt = Path("/var/lib/wastream") / digest
        alt.mkdir(parents=True, exist_ok=True)
        shutil.chown(alt, "postgres", "postgres")
        return alt

    @property
    def data_dir(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.cluster_dir / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}:{PASSWORD}@{self.host}:{self.port}/{DB}"

    def _run(self, bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")

    def pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            first = pid_file.read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        pid = int(first) if first.strip().isdigit() else None
        return pid if procs.alive(pid, "postgres") else None

    def start(self, timeout_s: float = 60.0) -> bool:
        """Start the cluster unless it runs; return True when this call started it."""
        if self.pid() is not None:
            self.wait_ready(timeout_s)
            return False
        bindir = ensure_installed()
        if procs.port_open(self.host, self.port):
            raise DevStackError(
                f"port {self.port} is taken by another process; set WASTREAM_PG_PORT to a free port"
            )
        if not (self.data_dir / "PG_VERSION").exists():
            result = self._run(
                bindir,
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
            if result.returncode != 0:
                raise DevStackError("initdb failed:\n" + result.stdout + result.stderr)
            # First match wins: the superuser is trusted on loopback (the dev stack
            # bootstraps with it), every other role needs its password.
            (self.data_dir / "pg_hba.conf").write_text(
                "local all all trust\n"
                f"host all postgres {self.host}/32 trust\n"
                f"host all all {self.host}/32 scram-sha-256\n"
            )
        # A postmaster killed with -9 leaves its lock file; our pid check found no such server.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        options = (
            f"-p {self.port} -c listen_addresses={self.host} -k {self.cluster_dir} "
            "-c max_connections=300 -c shared_buffers=128MB -c fsync=on "
            "-c synchronous_commit=on -c log_min_messages=warning"
        )
        result = self._run(
            bindir,
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(int(timeout_s)),
            "-o",
            options,
        )
        if result.returncode != 0:
            raise DevStackError(
                f"pg_ctl start failed: {result.stdout}{result.stderr}; see {self.log_file}"
            )
        self.wait_ready(timeout_s)
        self._bootstrap_role()
        return True

    def _bootstrap_role(self) -> None:
        asyncio.run(_ensure_role_and_db(self.host, self.port))

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                asyncio.run(_select_one(self.host, self.port))
                return
            except Exception as exc:
                last = exc
                time.sleep(0.3)
        raise DevStackError(
            f"PostgreSQL not ready after {timeout_s:.0f}s ({last!r}); see {self.log_file}"
        )

    def stop(self) -> None:
        if self.pid() is None:
            return
        bindir = pg_bindir()
        if bindir is not None:
            self._run(
                bindir, "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30"
            )
        pid = self.pid()
        if pid is not None:
            procs.terminate(pid)

    def restart(self, timeout_s: float = 60.0) -> None:
        """``pg_ctl restart -m fast`` (a failover drill): every session is cut, the server
        comes back with the options of its last start."""
        bindir = ensure_installed()
        result = self._run(bindir, "pg_ctl", "restart", "-D", str(self.data_dir), "-m", "fast",
                           "-w", "-t", str(int(timeout_s)), "-l", str(self.log_file))
        if result.returncode != 0:
            raise DevStackError(
                f"pg_ctl restart failed: {result.stdout}{result.stderr}; see {self.log_file}"
            )

    def healthy(self) -> bool:
        if self.pid() is None:
            return False
        try:
            asyncio.run(_select_one(self.host, self.port))
        except Exception:
            return False
        return True


async def _select_one(host: str, port: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        host=host, port=port, user="postgres", database="postgres", timeout=3
    )
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _ensure_role_and_db(host: str, port: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        host=host, port=port, user="postgres", database="postgres", timeout=5
    )
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE):
            await conn.execute(f"CREATE ROLE {ROLE} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB):
            await conn.execute(f"CREATE DATABASE {DB} OWNER {ROLE}")
    finally:
        await conn.close()
