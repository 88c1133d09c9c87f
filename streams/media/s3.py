"""The media store in an S3-compatible bucket (``WASTREAM_MEDIA_STORE=s3``).

The same contract as :class:`streams.media.store.LocalStore`: an object is named by the
sha256 of its bytes (``<bucket>/<key>``, path-style), ``put`` is safe to repeat, ``get``
and ``exists`` answer None/False for an object the bucket does not hold. The mime type
is the object's ``Content-Type``. Plain aiohttp with our own AWS Signature Version 4
(:mod:`streams.media.sigv4`; why not aiobotocore: docs/decisions/0016). A PUT is
atomic in S3, so a reader never sees half an object; the request carries the payload's
sha256 (which is the key), so the service refuses bytes damaged on the way.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from streams.failure.errors import PermanentError, TransientError
from streams.media.sigv4 import EMPTY_SHA256, Credentials, sign
from streams.media.store import StoreError, check_key, key_of
from wastream.config import Settings


class S3Unavailable(TransientError):
    """The service failed or could not be reached (5xx, 429, a connection error):
    retried through the tiers."""


class S3Refused(PermanentError):
    """The service refused the request (403 bad credentials, 404 no such bucket, …)."""


class S3Store:
    """A :class:`streams.media.store.MediaStore` in one bucket of an S3-compatible
    service; one pooled aiohttp session, opened on first use."""

    def __init__(self, endpoint_url: str, bucket: str, creds: Credentials,
                 timeout_s: float = 60.0) -> None:
        self.base = f"{endpoint_url.rstrip('/')}/{bucket}"
        self.creds = creds
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        m = settings.media
        if not (m.s3_bucket and m.s3_access_key_id and m.s3_secret_access_key):
            raise S3Refused("WASTREAM_MEDIA_STORE=s3 needs a bucket and credentials")
        endpoint = m.s3_endpoint_url or f"https://s3.{m.s3_region}.amazonaws.com"
        creds = Credentials(m.s3_access_key_id, m.s3_secret_access_key.get_secret_value(),
                            m.s3_region)
        return cls(endpoint, m.s3_bucket, creds, m.timeout_s)

    async def _request(self, method: str, key: str, data: bytes = b"",
                       headers: dict[str, str] | None = None) -> tuple[int, dict[str, str],
                                                                       bytes]:
        url = f"{self.base}/{check_key(key)}"
        payload = key_of(data) if data else EMPTY_SHA256
        signed = sign(self.creds, method, url, headers or {}, payload, datetime.now(UTC))
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.request(method, url, data=data or None,
                                              headers=signed) as resp:
                body = await resp.read()
                status, got = resp.status, {k.lower(): v for k, v in resp.headers.items()}
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise S3Unavailable(f"S3 {method} {key[:12]}…: {exc!r}") from exc
        if status >= 500 or status in (408, 429):
            raise S3Unavailable(f"S3 {method} {key[:12]}…: HTTP {status}")
        if status >= 300 and status != 404:
            raise S3Refused(f"S3 {method} {key[:12]}…: HTTP {status} {body[:300]!r}")
        return status, got, body

    async def put(self, data: bytes, mime_type: str) -> str:
        key = key_of(data)
        if not await self.exists(key):
            status, _, body = await self._request("PUT", key, data, {"Content-Type": mime_type})
            if status == 404:
                raise S3Refused(f"S3 PUT {key[:12]}…: no such bucket {body[:300]!r}")
        return key

    async def get(self, key: str) -> bytes | None:
        status, _, body = await self._request("GET", key)
        if status == 404:
            return None
        if key_of(body) != key:  # a reader can check what it got: here it does
            raise StoreError(f"S3 object {key[:12]}… does not match its key")
        return body

    async def exists(self, key: str) -> bool:
        status, _, _ = await self._request("HEAD", key)
        return status != 404

    async def mime_type(self, key: str) -> str | None:
        status, headers, _ = await self._request("HEAD", key)
        return None if status == 404 else headers.get("content-type")

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
