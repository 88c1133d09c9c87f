"""Slow and unverified bodies: hundreds of clients trickling a body hold a bounded number
of reading slots (the rest answered 503 at once) while signed webhooks are answered 200;
a body not whole within its deadline gets 408; a malformed signature earns no read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson

from schemas import topics
from tests.support.ingress import Ingress, running_ingress
from tests.support.webhooks import text_message_body

SLOW = 200
SLOTS = 20
SIGNED = 40


class SlowClient:
    """A raw socket that sends the headers of a 2,000-byte body, then one byte a second."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.answer: bytes | None = None  # the status line, once one came back

    @classmethod
    async def open(cls, port: int, signature: str = "sha256=" + "ab" * 32) -> SlowClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"X-Hub-Signature-256: " + signature.encode() + b"\r\n"
                     b"Content-Length: 2000\r\n\r\n{")
        await writer.drain()
        return cls(reader, writer)

    async def trickle(self) -> None:
        """One byte a second until an answer (or the end of the connection) comes back."""
        read = asyncio.create_task(self.reader.readline())
        try:
            while not read.done():
                with contextlib.suppress(ConnectionError):
                    self.writer.write(b" ")
                    await self.writer.drain()
                await asyncio.wait([read], timeout=1.0)
            self.answer = read.result()
        except ConnectionError:
            self.answer = b""
        finally:
            read.cancel()

    def close(self) -> None:
        self.writer.close()


Slow = tuple[SlowClient, asyncio.Task[None]]


@contextlib.asynccontextmanager
async def slow_clients(port: int, n: int) -> AsyncIterator[list[Slow]]:
    clients = [await SlowClient.open(port) for _ in range(n)]
    tasks = [asyncio.create_task(c.trickle()) for c in clients]
    try:
        yield list(zip(clients, tasks, strict=True))
    finally:
        for c, t in zip(clients, tasks, strict=True):
            t.cancel()
            c.close()
        await asyncio.gather(*tasks, return_exceptions=True)


def _port(ing: Ingress) -> int:
    port = ing.client.port
    assert port is not None
    return port


async def _wait_answered(slow: list[Slow], n: int) -> None:
    for _ in range(600):  # every client beyond the slots answered (a safety bound, 60 s)
        if sum(c.answer is not None for c, _ in slow) >= n:
            return
        await asyncio.sleep(0.1)


async def test_signed_webhooks_are_answered_while_hundreds_of_slow_clients_hang(
        dev_stack: dict[str, str]) -> None:
    async with running_ingress(dev_stack["bootstrap"], WASTREAM_INGRESS_MAX_READING=str(SLOTS),
                               WASTREAM_INGRESS_BODY_TIMEOUT_S="600") as ing, \
            slow_clients(_port(ing), SLOW) as slow:
        await _wait_answered(slow, SLOW - SLOTS)
        bodies = [text_message_body(f"2507880{i:05d}", f"hi {i}") for i in range(SIGNED)]
        answers = await asyncio.gather(*(ing.post(b) for b in bodies))
        # Every signed webhook answered 200 and stored...
        assert [status for status, _ in answers] == [200] * SIGNED
        assert len(await ing.read(topics.INBOUND, min_count=SIGNED)) == SIGNED
        # ...while the slow clients are still there: SLOTS of them still waiting for an
        # answer (their tasks running, connections open), every other one refused.
        waiting = [c for c, t in slow if c.answer is None and not t.done()]
        refused = [c.answer for c, _ in slow if c.answer is not None]
        assert len(waiting) == SLOTS
        assert len(refused) == SLOW - SLOTS
        assert set(refused) == {b"HTTP/1.1 503 Service Unavailable\r\n"}
        async with ing.health.get("/metrics") as r:
            assert f'wastream_ingress_bodies_refused_total{{reason="busy"}} {SLOW - SLOTS}.0' \
                in await r.text()


async def test_a_body_not_whole_within_its_deadline_is_answered_408(
        dev_stack: dict[str, str]) -> None:
    async with running_ingress(dev_stack["bootstrap"],
                               WASTREAM_INGRESS_BODY_TIMEOUT_S="1") as ing, \
            slow_clients(_port(ing), 3) as slow:
        await _wait_answered(slow, 3)
        assert [c.answer for c, _ in slow] == [b"HTTP/1.1 408 Request Timeout\r\n"] * 3
        status, answer = await ing.post(text_message_body("250788000001", "hi"))
        assert (status, answer["events"]) == (200, 1)


async def test_a_malformed_signature_is_refused_before_the_body_is_read(
        dev_stack: dict[str, str]) -> None:
    """A garbage header with a large Content-Length and no body: answered 403 at once
    (before, the body was awaited, then read and HMAC'd)."""
    async with running_ingress(dev_stack["bootstrap"], WASTREAM_INGRESS_BODY_TIMEOUT_S="600",
                               WASTREAM_INGRESS_MAX_READING="1") as ing:
        for sig in ("garbage", "sha256=zz", "sha256=" + "ab" * 31, "sha1=" + "ab" * 20):
            client = await SlowClient.open(_port(ing), signature=sig)
            try:
                status = await asyncio.wait_for(client.reader.readline(), 30)
                assert status == b"HTTP/1.1 403 Forbidden\r\n", sig
            finally:
                client.close()
        # a well-formed (wrong) signature is still read, then refused on its MAC
        body = orjson.dumps({"object": "whatsapp_business_account", "entry": []})
        status, answer = await ing.post(body, secret="not-the-secret")  # noqa: S106
        assert (status, answer["error"]["code"]) == (403, "signature_invalid")


async def test_a_silent_connection_is_closed_after_the_keepalive(
        dev_stack: dict[str, str]) -> None:
    """A client that opens a connection and sends nothing is closed by the server
    (aiohttp's default keeps it an hour)."""
    async with running_ingress(dev_stack["bootstrap"], WASTREAM_INGRESS_KEEPALIVE_S="1") as ing:
        reader, writer = await asyncio.open_connection("127.0.0.1", _port(ing))
        try:
            assert await asyncio.wait_for(reader.read(), 30) == b""  # closed, nothing said
        finally:
            writer.close()
