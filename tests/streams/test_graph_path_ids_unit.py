"""Ids from webhook payloads go into Graph API URL paths only when they are ids: a
phone_number_id of digits, a media id without path characters. Anything else is refused
for good before a request is made (it would address another endpoint with our token)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from streams.delivery.graph import GraphClient
from streams.failure.errors import GraphBadPathId, is_transient
from streams.media.graph import MediaClient

CRAFTED = ["106540352242922/../../me", "1?fields=x", "..", "", "12 34", "1%2F2", "123\n"]


@pytest.fixture
async def graph() -> AsyncIterator[tuple[str, list[str]]]:
    """A Graph API that records every path it is asked for and answers like Meta."""
    seen: list[str] = []

    async def any_route(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.json_response({"messages": [{"id": "wamid.X"}], "id": "77",
                                  "url": "http://127.0.0.1:9/x"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_route)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")), seen
    finally:
        await server.close()


@pytest.mark.parametrize("pnid", CRAFTED)
async def test_a_crafted_phone_number_id_is_refused_before_any_request(
        graph: tuple[str, list[str]], pnid: str) -> None:
    url, seen = graph
    client = GraphClient(url, "v21.0", "token")
    try:
        with pytest.raises(GraphBadPathId) as err:
            await client.send(pnid, {"messaging_product": "whatsapp"})
        assert not is_transient(err.value)  # dead-lettered, never retried
        with pytest.raises(GraphBadPathId):
            await MediaClient(url, "v21.0", "token", 5).upload(pnid, b"x", "image/png", "a.png")
    finally:
        await client.close()
    assert seen == []


@pytest.mark.parametrize("mid", ["../106540352242922/messages", "1?x=1", "a/b", "..", ""])
async def test_a_crafted_media_id_is_refused_before_any_request(
        graph: tuple[str, list[str]], mid: str) -> None:
    url, seen = graph
    media = MediaClient(url, "v21.0", "token", 5)
    with pytest.raises(GraphBadPathId):
        await media.info(mid)
    assert seen == []


async def test_real_ids_still_reach_their_endpoints(graph: tuple[str, list[str]]) -> None:
    url, seen = graph
    client = GraphClient(url, "v21.0", "token")
    media = MediaClient(url, "v21.0", "token", 5)
    try:
        assert (await client.send("106540352242922", {})).wamid == "wamid.X"
        assert await media.upload("106540352242922", b"x", "image/png", "a.png") == "77"
        assert (await media.info("1234567890")).media_id == "77"
    finally:
        await client.close()
        await media.close()
    assert seen == ["/v21.0/106540352242922/messages", "/v21.0/106540352242922/media",
                    "/v21.0/1234567890"]
