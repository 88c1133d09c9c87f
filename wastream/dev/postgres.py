"""A private PostgreSQL cluster from the distribution's packages, on loopback.

``initdb`` refuses to run as root, so when we are root the cluster belongs to the
``postgres`` user that the ``postgresql`` package creates, and every server
command runs as that user.

Least privilege, though it is only a dev cluster (its tables hold phone numbers and
message text): every connection authenticates with scram-sha-256 (no ``trust``); the
superuser ``postgres`` and the owner role have random passwords kept in
``<home>/postgres.secrets`` (0600); the services' role ``wastream`` is no superuser and
may only use the schemas' rows, which the owner role ``wastream_owner`` creates when it
runs the migrations; the cluster's directory is 0700. A cluster initialised by older
code (``trust``, ``wastream`` a superuser) is brought to this the next time ``dev up``
starts it, its data kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from wastream.dev import procs
from wastream.dev.kafka import DevStackError

DB = "wastream"
ROLE = "wastream"  # the services' role
# The services' password is the settings' default DATABASE_URL's (a loopback-only dev
# cluster); the superuser's and the owner's are random, in postgres.secrets.
PASSWORD = "wastream"  # noqa: S105
OWNER = "wastream_owner"  # owns the database and schemas, runs the migrations
SUPERUSER = "postgres"


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
            own.mkdir(parents=True, exist_ok=True)
            own.chmod(0o700)
            return own
        own.mkdir(parents=True, exist_ok=True)
        shutil.chown(own, "postgres", "postgres")
        own.chmod(0o700)
        if _traversable_by("postgres", own):
            return own
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]  # noqa: S324
        alt = Path("/var/lib/wastream") / digest
        alt.mkdir(parents=True, exist_ok=True)
        shutil.chown(alt, "postgres", "postgres")
        alt.chmod(0o700)
        return alt

    @property
    def data_dir(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.cluster_dir / "postgres.log"

    @property
    def url(self) -> str:
        """The services' DSN (``DATABASE_URL``)."""
        return f"postgresql://{ROLE}:{PASSWORD}@{self.host}:{self.port}/{DB}"

    @property
    def secrets_file(self) -> Path:
        return self.home / "postgres.secrets"

    def secrets(self) -> dict[str, str] | None:
        """The superuser's and the owner's passwords; None for a cluster of older code
        (trusted, not yet brought to least privilege)."""
        try:
            data = json.loads(self.secrets_file.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @property
    def owner_url(self) -> str:
        """The DSN of the schemas' owner (``DATABASE_OWNER_URL``); a cluster of older
        code has one role for both, the services'."""
        s = self.secrets()
        if s is None:
            return self.url
        return f"postgresql://{OWNER}:{s[OWNER]}@{self.host}:{self.port}/{DB}"

    def _new_secrets(self) -> dict[str, str]:
        data = {SUPERUSER: secrets.token_urlsafe(24), OWNER: secrets.token_urlsafe(24)}
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        self.secrets_file.chmod(0o600)
        return data

    def _write_hba(self) -> None:
        # No trust anywhere: the superuser too gives its password.
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "local all all scram-sha-256\n"
            f"host all all {self.host}/32 scram-sha-256\n"
        )
        if self.as_root:
            shutil.chown(hba, "postgres", "postgres")

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
            pw = self._new_secrets()
            pwfile = self.cluster_dir / "initdb.pw"
            fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(pw[SUPERUSER] + "\n")
            if self.as_root:
                shutil.chown(pwfile, "postgres", "postgres")
            try:
                result = self._run(
                    bindir, "initdb", "-D", str(self.data_dir), "-U", SUPERUSER,
                    f"--pwfile={pwfile}", "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                )
            finally:
                pwfile.unlink(missing_ok=True)
            if result.returncode != 0:
                raise DevStackError("initdb failed:\n" + result.stdout + result.stderr)
            self._write_hba()
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
        if self.secrets() is None:  # initialised by older code: trusted until now
            self._secure_old_cluster(bindir)
        self._bootstrap_roles()
        return True

    def _secure_old_cluster(self, bindir: Path) -> None:
        """A cluster of older code (``trust``): give the superuser a password, then
        stop trusting anyone (the configuration reloaded, the data kept)."""
        pw = self._new_secrets()
        asyncio.run(_set_superuser_password(self.host, self.port, pw[SUPERUSER]))
        self._write_hba()
        result = self._run(bindir, "pg_ctl", "reload", "-D", str(self.data_dir))
        if result.returncode != 0:
            raise DevStackError(f"pg_ctl reload failed: {result.stdout}{result.stderr}")
        print("dev: postgres brought to least privilege (scram-sha-256 only, "
              f"{ROLE} no superuser, {OWNER} owns the schemas)", flush=True)

    def _bootstrap_roles(self) -> None:
        s = self.secrets()
        assert s is not None
        asyncio.run(_ensure_roles_and_db(self.host, self.port, s))

    def _superuser_password(self) -> str | None:
        s = self.secrets()
        return s[SUPERUSER] if s else None

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                asyncio.run(_select_one(self.host, self.port, self._superuser_password()))
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

    def healthy(self) -> bool:
        if self.pid() is None:
            return False
        try:
            asyncio.run(_select_one(self.host, self.port, self._superuser_password()))
        except Exception:
            return False
        return True


async def _select_one(host: str, port: int, password: str | None) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=host, port=port, user=SUPERUSER, password=password,
                                 database="postgres", timeout=3)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _set_superuser_password(host: str, port: int, password: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=host, port=port, user=SUPERUSER, database="postgres",
                                 timeout=5)
    try:
        await conn.execute(f"ALTER ROLE {SUPERUSER} PASSWORD {_literal(password)}")
    finally:
        await conn.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def _ensure_roles_and_db(host: str, port: int, pw: dict[str, str]) -> None:
    """The owner role (it may create the analytics role), the services' role (no
    superuser, no DDL) and the database the owner owns; on a cluster of older code
    also what the services' role owned (schemas, tables) handed to the owner, and the
    services' role granted the rows of every schema there."""
    import asyncpg

    conn = await asyncpg.connect(host=host, port=port, user=SUPERUSER, password=pw[SUPERUSER],
                                 database="postgres", timeout=5)
    try:
        for role, password, extra in ((OWNER, pw[OWNER], "CREATEROLE"), (ROLE, PASSWORD, "")):
            verb = ("ALTER" if await conn.fetchval(
                "SELECT 1 FROM pg_roles WHERE rolname = $1", role) else "CREATE")
            await conn.execute(f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOREPLICATION "
                               f"NOBYPASSRLS {extra} PASSWORD {_literal(password)}")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB):
            await conn.execute(f"CREATE DATABASE {DB} OWNER {OWNER}")
        else:
            await conn.execute(f"ALTER DATABASE {DB} OWNER TO {OWNER}")
        await conn.execute(f"REVOKE CREATE ON DATABASE {DB} FROM PUBLIC, {ROLE}")
    finally:
        await conn.close()
    db = await asyncpg.connect(host=host, port=port, user=SUPERUSER, password=pw[SUPERUSER],
                               database=DB, timeout=5)
    try:
        await db.execute(f"REASSIGN OWNED BY {ROLE} TO {OWNER}")
        schemas = await db.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' "
            "AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'public'")
        for r in schemas:
            q = '"' + r["nspname"].replace('"', '""') + '"'
            await db.execute(f"GRANT USAGE ON SCHEMA {q} TO {ROLE}")
            await db.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {q} "
                             f"TO {ROLE}")
            await db.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {q} "
                             f"TO {ROLE}")
        await db.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} GRANT SELECT, INSERT, "
                         f"UPDATE, DELETE ON TABLES TO {ROLE}")
        await db.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} GRANT USAGE, SELECT, "
                         f"UPDATE ON SEQUENCES TO {ROLE}")
    finally:
        await db.close()
