"""A throwaway PostgreSQL of a test's own, which the test may restart: never the shared
dev stack's (other tests and other processes use that one).

The cluster is the dev stack's (``wastream.dev.postgres.PostgresNode``: initdb, the app
role, pg_ctl as the ``postgres`` user when we are root) on a free port under a temporary
directory that is deleted at the end.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.system import free_port
from wastream.dev.kafka import DevStackError
from wastream.dev.postgres import PostgresNode, ensure_installed


@dataclass
class ThrowawayPostgres:
    """One private cluster: ``url`` for the services' role, ``owner_url`` for the
    migrations, ``restart()`` (fast shutdown, as a failover or ``pg_ctl restart -m
    fast`` by an operator does)."""

    node: PostgresNode

    @property
    def url(self) -> str:
        """The services' role (rows only)."""
        return self.node.url

    @property
    def owner_url(self) -> str:
        """The schemas' owner, which runs the migrations (``DATABASE_OWNER_URL``)."""
        return self.node.owner_url

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is terminated, the server is down
        for a moment, then accepts connections again (waits until it does)."""
        result = self.node._run(ensure_installed(), "pg_ctl", "restart", "-m", "fast",
                                "-D", str(self.node.data_dir), "-l", str(self.node.log_file),
                                "-w", "-t", "60")
        if result.returncode != 0:
            raise DevStackError(f"pg_ctl restart failed: {result.stdout}{result.stderr}")
        self.node.wait_ready(60)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """Start a private cluster; stop it and delete its files on the way out."""
    home = Path(tempfile.mkdtemp(prefix="wastream-pg-"))
    home.chmod(0o755)  # the server may run as ``postgres``, which must reach its data
    node = PostgresNode(home=home, port=free_port())
    try:
        node.start()
        yield ThrowawayPostgres(node)
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)
