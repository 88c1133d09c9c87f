"""The shared observability parts without a server: log formats and the ids they carry,
the health endpoint's answers, and the projector's lag collector."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from collections.abc import Iterator

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry, Counter, generate_latest

from projections.metrics import ProjectorLag
from wastream.config import ConfigError, Settings
from wastream.observability import logs
from wastream.observability.health import HealthEndpoint, start_from


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger's lines, as ``logs.configure`` sets it up, in a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    yield out
    root.handlers[:], root.level = saved


def _configure(out: io.StringIO, fmt: str, level: str = "INFO") -> None:
    logs.configure(level, fmt, "test")
    logging.getLogger().handlers[0].setStream(out)  # type: ignore[attr-defined]


def test_json_lines_carry_the_bound_ids_and_only_inside(captured: io.StringIO) -> None:
    _configure(captured, "json")
    log = logging.getLogger("t")
    value = orjson.dumps({"event_id": "wamid.A", "wa_id": "250788000001"})
    with logs.bound("corr-1", record=value):
        log.info("about the event")
    log.info("about nothing")
    first, second = (orjson.loads(x) for x in captured.getvalue().splitlines())
    assert (first["correlation_id"], first["event_id"], first["service"]) == (
        "corr-1", "wamid.A", "test")
    assert second["correlation_id"] == "-"
    assert "event_id" not in second


def test_an_outbound_record_is_named_by_its_outbound_id(captured: io.StringIO) -> None:
    _configure(captured, "json")
    with logs.bound("c", record=orjson.dumps({"outbound_id": "wamid.B:reply"})):
        logging.getLogger("t").warning("sent")
    assert orjson.loads(captured.getvalue())["event_id"] == "wamid.B:reply"


def test_concurrent_tasks_each_log_their_own_ids(captured: io.StringIO) -> None:
    _configure(captured, "json")

    async def handle(n: int) -> None:
        with logs.bound(f"c{n}", f"e{n}"):
            await asyncio.sleep(0.01 * (3 - n))
            logging.getLogger("t").info("done %d", n)

    async def main() -> None:
        await asyncio.gather(*(handle(n) for n in range(3)))

    asyncio.run(main())
    lines = [orjson.loads(x) for x in captured.getvalue().splitlines()]
    assert {(x["msg"], x["correlation_id"], x["event_id"]) for x in lines} == {
        (f"done {n}", f"c{n}", f"e{n}") for n in range(3)}


def test_text_format_names_the_ids_and_the_level_filters(captured: io.StringIO) -> None:
    _configure(captured, "text", level="WARNING")
    log = logging.getLogger("t")
    with logs.bound("corr-9", "wamid.Z"):
        log.info("hidden")
        log.warning("shown")
    (line,) = captured.getvalue().splitlines()
    assert line.endswith("WARNING t [corr-9 wamid.Z] shown")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(line)


def test_log_format_and_level_are_typed_settings() -> None:
    s = Settings.from_env({"WASTREAM_LOG_FORMAT": "TEXT", "WASTREAM_LOG_LEVEL": "debug"})
    assert (s.observability.log_format, s.observability.log_level) == ("text", "DEBUG")
    with pytest.raises(ConfigError, match="WASTREAM_LOG_FORMAT"):
        Settings.from_env({"WASTREAM_LOG_FORMAT": "xml"})
    assert Settings.from_env({}).observability.health_port is None  # off unless set


async def test_health_endpoint_answers_ready_only_when_every_check_passes() -> None:
    registry = CollectorRegistry()
    Counter("wastream_test_things", "things", registry=registry).inc()
    kafka_ok = True

    async def kafka() -> bool:
        return kafka_ok

    async def broken() -> bool:
        raise OSError("no route")

    endpoint = HealthEndpoint("svc", {"kafka": kafka}, registries=(registry,))
    async with TestClient(TestServer(endpoint.app())) as client:
        async with client.get("/healthz") as r:
            assert r.status == 200
        async with client.get("/readyz") as r:
            assert (r.status, await r.json()) == (200, {"ready": True, "service": "svc",
                                                        "kafka": True})
        kafka_ok = False
        async with client.get("/readyz") as r:
            assert (r.status, (await r.json())["kafka"]) == (503, False)
        async with client.get("/metrics") as r:
            assert "wastream_test_things_total 1.0" in await r.text()
    endpoint.checks = {"db": broken}
    async with TestClient(TestServer(endpoint.app())) as client, client.get("/readyz") as r:
        assert (r.status, (await r.json())["db"]) == (503, False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("env", "bound"), [({}, "127.0.0.1"),
                                            ({"WASTREAM_HEALTH_HOST": "127.0.0.2"}, "127.0.0.2")])
async def test_the_endpoint_binds_loopback_unless_configured(env: dict[str, str],
                                                             bound: str) -> None:
    assert not await start_from(Settings.from_env(env), HealthEndpoint("svc"))  # port unset
    port = _free_port()
    endpoint = HealthEndpoint("svc")
    assert await start_from(Settings.from_env({**env, "WASTREAM_HEALTH_PORT": str(port)}),
                            endpoint)
    try:
        assert endpoint._runner is not None
        assert endpoint._runner.addresses == [(bound, port)]
    finally:
        await endpoint.stop()


class _P:
    def __init__(self, name: str, topics: tuple[str, ...]) -> None:
        self.name, self.topics = name, topics


def test_projector_lag_is_log_end_minus_written_per_projection_and_partition() -> None:
    registry = CollectorRegistry()
    positions = {("wa.inbound", 0): ("p.wa.inbound", 120, 100),
                 ("wa.inbound", 1): ("p.wa.inbound", 7, None),   # nothing written yet
                 ("wa.state", 0): ("p.wa.state", 50, 50),
                 ("wa.delivery", 0): ("p.wa.delivery", None, 3)}  # nothing fetched yet
    ProjectorLag("p.projector", [_P("events", ("wa.inbound",)),  # type: ignore[list-item]
                                 _P("chat_state", ("wa.state", "wa.inbound"))],
                 lambda: positions, registry)
    page = generate_latest(registry).decode()
    assert 'wastream_projector_lag{projection="events"} 27.0' in page
    assert 'wastream_projector_lag{projection="chat_state"} 27.0' in page
    assert ('wastream_consumer_lag{group="p.projector",partition="0",topic="p.wa.inbound"} '
            '20.0') in page
    assert ('wastream_consumer_lag{group="p.projector",partition="1",topic="p.wa.inbound"} '
            '7.0') in page
    assert 'topic="p.wa.delivery"' not in page
