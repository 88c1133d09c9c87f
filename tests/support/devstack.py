"""Dev stacks of a test's own (a home and ports of its own, never the shared stack)."""

from __future__ import annotations

import shutil

from wastream.dev import DevStack


def drop_cluster(stack: DevStack) -> None:
    """Remove a stopped test cluster that PostgreSQL keeps outside the test's home (as
    root, under /var/lib/wastream: the postgres user cannot enter pytest's tmp dirs)."""
    cluster = stack.postgres.cluster_dir
    if stack.postgres.pid() is None and not cluster.is_relative_to(stack.home):
        shutil.rmtree(cluster, ignore_errors=True)
