"""The dev stack's PostgreSQL, on its own home and port (the shared one stays untouched):
no trusted connection, a services' role that is no superuser and may only use rows, an
owner role that runs the migrations, 0700 directories; and a cluster left by the code
before this (trust, a superuser services' role) brought to the same on its next start,
its data kept."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from projections.migrations import migrate
from tests.support.system import free_port
from wastream.config import Settings
from wastream.dev.postgres import OWNER, ROLE, SUPERUSER, PostgresNode, ensure_installed

pytestmark = pytest.mark.usefixtures("real_servers")  # a PostgreSQL of its own


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[PostgresNode]:
    pg = PostgresNode(home=tmp_path / "home", port=free_port())
    try:
        yield pg
    finally:
        pg.stop()


async def _check_least_privilege(pg: PostgresNode, schema: str) -> None:
    # nobody is trusted: the superuser without its password is refused
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(host=pg.host, port=pg.port, user=SUPERUSER, database="postgres")
    app = await asyncpg.connect(pg.url)
    try:
        assert await app.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = $1",
                                  ROLE) is False
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("CREATE SCHEMA sneaky")
        # the owner migrates; the services' role may use the rows and nothing more
        settings = Settings.from_env({"DATABASE_URL": pg.url, "DATABASE_OWNER_URL": pg.owner_url,
                                      "WASTREAM_DB_SCHEMA": schema})
        await migrate(settings)
        await app.execute(f"SET search_path TO {schema}")
        await app.execute("INSERT INTO webhook_logs (correlation_id, received_at, body, "
                          "kafka_partition, kafka_offset) VALUES ('c1', now(), 'x', 0, 1)")
        assert await app.fetchval("SELECT count(*) FROM webhook_logs") >= 1
        await app.execute("UPDATE webhook_logs SET kafka_offset = 2 WHERE correlation_id = 'c1'")
        for ddl in ("DROP TABLE webhook_logs", "CREATE TABLE t (k int)",
                    "ALTER TABLE webhook_logs ADD COLUMN x int", "TRUNCATE webhook_logs"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(ddl)
        owner = await asyncpg.connect(pg.owner_url)
        try:
            assert await owner.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = $1",
                                        OWNER) is False
            assert await owner.fetchval(
                "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1",
                schema) == OWNER
        finally:
            await owner.close()
    finally:
        await app.close()
    hba = (pg.data_dir / "pg_hba.conf").read_text()
    assert "trust" not in hba
    assert _mode(pg.cluster_dir) == 0o700
    assert _mode(pg.data_dir) == 0o700
    assert _mode(pg.secrets_file) == 0o600


def test_a_new_cluster_trusts_nobody_and_the_services_role_uses_rows_only(
        node: PostgresNode) -> None:
    assert node.start() is True
    asyncio.run(_check_least_privilege(node, "lp_new"))
    assert node.healthy()
    # dev up again on the running cluster: nothing to do, still reachable
    assert node.start() is False


def _old_cluster(pg: PostgresNode) -> None:
    """A cluster as the code before this change initialised it: local connections and
    the superuser trusted, the services' role a superuser owning the database."""
    bindir = ensure_installed()
    result = pg._run(bindir, "initdb", "-D", str(pg.data_dir), "-U", SUPERUSER,
                     "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                     "--locale=C.UTF-8")
    assert result.returncode == 0, result.stderr
    (pg.data_dir / "pg_hba.conf").write_text(
        "local all all trust\n"
        f"host all postgres {pg.host}/32 trust\n"
        f"host all all {pg.host}/32 scram-sha-256\n")
    result = pg._run(bindir, "pg_ctl", "start", "-D", str(pg.data_dir), "-l", str(pg.log_file),
                     "-w", "-o", f"-p {pg.port} -c listen_addresses={pg.host} "
                     f"-k {pg.cluster_dir}")
    assert result.returncode == 0, result.stderr

    async def roles() -> None:
        su = await asyncpg.connect(host=pg.host, port=pg.port, user=SUPERUSER,
                                   database="postgres")
        try:
            await su.execute(f"CREATE ROLE {ROLE} LOGIN SUPERUSER PASSWORD 'wastream'")
            await su.execute(f"CREATE DATABASE wastream OWNER {ROLE}")
        finally:
            await su.close()
        app = await asyncpg.connect(pg.url)
        try:  # data of before, migrated by the services' role (then a superuser)
            await migrate(Settings.from_env({"DATABASE_URL": pg.url,
                                             "WASTREAM_DB_SCHEMA": "lp_old"}))
            await app.execute("INSERT INTO lp_old.webhook_logs (correlation_id, received_at, "
                              "body, kafka_partition, kafka_offset) "
                              "VALUES ('before', now(), 'x', 0, 1)")
        finally:
            await app.close()

    asyncio.run(roles())
    assert pg.secrets() is None
    assert pg.owner_url == pg.url  # a stack of older code keeps working as it was


def test_a_cluster_of_older_code_is_brought_to_least_privilege_on_its_next_start(
        node: PostgresNode) -> None:
    node.cluster_dir.mkdir(parents=True, exist_ok=True)
    _old_cluster(node)
    node.stop()
    assert node.start() is True
    assert node.secrets() is not None

    async def kept() -> None:
        app = await asyncpg.connect(node.url)
        try:  # the rows of before are still there, readable and writable by the services
            assert await app.fetchval(
                "SELECT count(*) FROM lp_old.webhook_logs WHERE correlation_id = 'before'") == 1
            await app.execute("UPDATE lp_old.webhook_logs SET kafka_offset = 3")
        finally:
            await app.close()
        await _check_least_privilege(node, "lp_old")

    asyncio.run(kept())
