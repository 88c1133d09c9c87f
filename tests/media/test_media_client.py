"""The media client against the stand-in Graph API over HTTP (no broker): the URL Meta
gives for a media id expires, the download needs the token, and a download is stopped
as soon as it passes the caller's limit, whether or not the size was announced."""

from __future__ import annotations

import asyncio

import pytest

from standins.graph import GraphStub
from streams.failure.errors import GraphAuthError, GraphInvalidParameter
from streams.media.graph import MediaClient, TooLarge

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 800  # 200 KB that says it is a JPEG
CHUNK = 1 << 16  # what the client reads at a time


async def test_the_media_url_expires_and_a_fresh_one_serves_the_bytes() -> None:
    stub = await GraphStub().start()
    stub.media.url_ttl_s = 1.0
    stub.media.put("7001", JPEG, "image/jpeg")
    client = MediaClient(stub.url, "v21.0", stub.token, 5)
    stranger = MediaClient(stub.url, "v21.0", "not-the-token", 5)
    try:
        info = await client.info("7001")
        assert (info.mime_type, info.file_size) == ("image/jpeg", len(JPEG))
        assert await client.download(info.url, len(JPEG)) == (JPEG, "image/jpeg")
        with pytest.raises(GraphAuthError):  # the URL alone is not enough
            await stranger.download(info.url, len(JPEG))
        await asyncio.sleep(1.5)
        with pytest.raises(GraphInvalidParameter) as expired:
            await client.download(info.url, len(JPEG))
        assert expired.value.as_dict()["code"] == 100
        fresh = await client.info("7001")
        assert fresh.url != info.url
        assert await client.download(fresh.url, len(JPEG)) == (JPEG, "image/jpeg")
        assert stub.media.downloads == 2
    finally:
        await client.close()
        await stranger.close()
        await stub.stop()


async def test_a_download_past_the_limit_is_stopped() -> None:
    stub = await GraphStub().start()
    stub.media.put("7002", JPEG, "image/jpeg")  # served with its Content-Length
    # Declared only: streamed without a Content-Length, as when Meta's size is wrong.
    stub.media.put("7003", None, "image/jpeg", size=50 * 1024 * 1024)
    client = MediaClient(stub.url, "v21.0", stub.token, 30)
    limit = 100_000
    try:
        with pytest.raises(TooLarge) as announced:
            await client.download((await client.info("7002")).url, limit)
        assert announced.value.seen == len(JPEG)  # refused on the header, nothing read
        with pytest.raises(TooLarge) as streamed:
            await client.download((await client.info("7003")).url, limit)
        assert limit < streamed.value.seen <= limit + CHUNK  # not the 50 MB
        assert await client.download((await client.info("7002")).url, len(JPEG)) == (
            JPEG, "image/jpeg")
    finally:
        await client.close()
        await stub.stop()
