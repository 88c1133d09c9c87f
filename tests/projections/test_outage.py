"""A PostgreSQL outage (every connection of the projector reset, new ones refused, for
a few seconds, through a proxy in front of the real server) delays the projector and
loses or duplicates nothing."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest

from schemas import topics
from tests.support import projection_data as pd
from tests.support.system import System
from tests.support.tcp_proxy import TcpProxy

N = 6000


async def test_postgres_outage_delays_and_loses_nothing(system: System) -> None:
    url = urlsplit(system.database_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    netloc = url.netloc.rsplit(":", 1)[0] + f":{port}"
    system.env_overrides.update({
        "DATABASE_URL": urlunsplit(url._replace(netloc=netloc)),
        "WASTREAM_PROJECTOR_BATCH": "100", "WASTREAM_PROJECTOR_LINGER_MS": "10",
        "WASTREAM_PROJECTOR_BACKOFF_MAX_S": "1"})
    events = [pd.inbound(i, f"25078{i % 211:07d}") for i in range(N)]
    await pd.produce(system.bootstrap, system.topic(topics.INBOUND), [(e.wa_id, e) for e in events])
    proj = system.start_projector()
    conn = await system.db()
    try:
        while (before := await conn.fetchval("SELECT count(*) FROM wa_events")) < 500:
            assert proj.alive(), proj.tail()
            await asyncio.sleep(0.01)
        await proxy.cut()
        assert before < N, "finished before the outage: the test proves nothing"
        await asyncio.sleep(0.5)
        during = await conn.fetchval("SELECT count(*) FROM wa_events")
        await asyncio.sleep(3)
        assert await conn.fetchval("SELECT count(*) FROM wa_events") == during  # really cut
        assert proj.alive(), proj.tail()
        await proxy.restore()
        for _ in range(300):
            if await conn.fetchval("SELECT count(*) FROM wa_events") >= N:
                break
            await asyncio.sleep(0.1)
        assert await conn.fetchval("SELECT count(*) FROM wa_events") == N
        assert await conn.fetchval("SELECT count(DISTINCT event_id) FROM wa_events") == N
        stored = await conn.fetchval(
            "SELECT sum(\"offset\") FROM projection_offsets WHERE projection = 'events'")
        assert stored == N  # next offsets of every partition add up to the records
        assert proj.alive(), proj.tail()
        assert "postgres unavailable" in proj.tail(400)
    finally:
        await conn.close()
        await proxy.close()


async def test_a_connection_the_server_closed_while_idle_is_replaced(system: System) -> None:
    """PostgreSQL's fast shutdown (or pg_terminate_backend) sends an idle connection a
    FATAL error and then closes it. When the close arrives later than the error (a
    loaded machine), asyncpg has read the error into its protocol but still thinks the
    connection open, and the next statement fails with InternalClientError ("cannot
    switch to state 15; another operation (2) is in progress"). That killed the
    projector in a fresh-clone run of the PostgreSQL restart test. The store must treat
    it as the outage it is: unavailable, then a new connection."""
    from projections.base import Msg
    from projections.events import EventsProjection
    from projections.store import Store, StoreUnavailable
    from wastream.config import Settings

    url = urlsplit(system.database_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    netloc = url.netloc.rsplit(":", 1)[0] + f":{port}"
    settings = Settings.from_env({**system.env,
                                  "DATABASE_URL": urlunsplit(url._replace(netloc=netloc))})
    store = Store(settings, [EventsProjection()])
    u = "250788600001"

    def batch(first: int, n: int) -> dict[tuple[str, int], list[Msg]]:
        return {(topics.INBOUND, 0): [
            Msg(topics.INBOUND, 0, i, u.encode(), pd.inbound(i, u).to_bytes(), (), 0)
            for i in range(first, first + n)]}

    conn = await system.db()
    try:
        await store.apply(batch(0, 3))
        assert store.conn is not None
        pid = store.conn.get_server_pid()
        proxy.hold_eof = True
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.5)  # the FATAL reaches the idle connection; its close does not
        assert not store.conn.is_closed(), "the close got through: the test proves nothing"
        with pytest.raises(StoreUnavailable, match="InternalClientError"):
            await store.apply(batch(3, 3))
        proxy.release_eof()
        await store.apply(batch(3, 3))  # a new connection
        assert await conn.fetchval("SELECT count(*) FROM wa_events") == 6
        stored = await conn.fetchval(
            "SELECT \"offset\" FROM projection_offsets WHERE projection = 'events'")
        assert stored == 6
    finally:
        await store.close()
        await conn.close()
        await proxy.close()
