"""The media endpoints of the stand-in Graph API (mounted by :class:`standins.graph.GraphStub`).

- ``GET /{version}/{media-id}`` → ``{messaging_product, url, mime_type, sha256 (hex),
  file_size, id}`` like Meta's; the URL expires after ``url_ttl_s``;
- ``GET /_media/{media-id}?expires=…`` (the URL): checks the bearer token and the
  expiry, then serves the bytes;
- ``POST /{version}/{phone-number-id}/media`` (multipart ``messaging_product``, ``type``,
  ``file``) → ``{id}``; :meth:`MediaStandin.forget` drops the ids it gave, and a
  message that uses a forgotten id is refused with 131053, as Meta does with an
  expired upload;
- ``POST /_stub/media`` (JSON ``{id, data_b64 | size, mime_type, sha256?}``) registers
  an object: real bytes, or only a declared ``file_size`` (the 50 MB "image" without 50
  MB); ``fail_downloads`` makes the next N downloads answer 500.

A media id unknown to the stand-in answers Meta's "does not exist" (code 100, 404).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

MEDIA_GONE = 131053


@dataclass
class Stored:
    data: bytes | None
    mime_type: str
    sha256: str  # hex, as the media endpoint answers
    size: int


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(status=status, data={"error": {
        "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "stub"}})


@dataclass
class MediaStandin:
    """Media objects by id, uploads, and the faults of downloads."""

    url_ttl_s: float = 300.0
    objects: dict[str, Stored] = field(default_factory=dict)
    uploads: dict[str, Stored] = field(default_factory=dict)  # ids we gave to uploads
    forgotten: set[str] = field(default_factory=set)
    download_faults: int = 0
    downloads: int = 0  # successful downloads served
    info_requests: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def put(self, media_id: str, data: bytes | None, mime_type: str, *, size: int | None = None,
            sha256: str | None = None) -> None:
        """Register an object; ``data=None`` with a ``size`` declares one without bytes."""
        digest = sha256 or hashlib.sha256(data or b"").hexdigest()
        self.objects[media_id] = Stored(data, mime_type, digest,
                                        size if size is not None else len(data or b""))

    def forget(self) -> None:
        """Meta drops uploaded media after 30 days: every id given so far is gone."""
        self.forgotten.update(self.uploads)
        self.uploads.clear()

    def fail_downloads(self, count: int) -> None:
        self.download_faults += count

    def mount(self, app: web.Application, token: str) -> None:
        self.token = token
        app.router.add_post("/_stub/media", self._register)
        app.router.add_get("/_media/{media_id}", self._download)
        app.router.add_post("/{version}/{phone_number_id}/media", self._upload)
        app.router.add_get("/{version}/{media_id}", self._info)

    def gone(self, body: dict[str, Any]) -> str | None:
        """The forgotten upload id a message uses, if any (the stub answers 131053)."""
        obj = body.get(str(body.get("type")))
        media_id = obj.get("id") if isinstance(obj, dict) else None
        return media_id if media_id in self.forgotten else None

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _register(self, request: web.Request) -> web.Response:
        d = orjson.loads(await request.read())
        data = base64.b64decode(d["data_b64"]) if d.get("data_b64") else None
        self.put(str(d["id"]), data, str(d.get("mime_type") or "image/jpeg"),
                 size=d.get("size"), sha256=d.get("sha256"))
        return web.json_response({"id": d["id"]})

    async def _info(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token")
        media_id = request.match_info["media_id"]
        obj = self.objects.get(media_id) or self.uploads.get(media_id)
        if obj is None:
            return _error(404, 100, f"Unsupported get request. Object with ID '{media_id}' "
                          "does not exist")
        self.info_requests += 1
        expires = int((time.time() + self.url_ttl_s) * 1000)
        url = f"{request.scheme}://{request.host}/_media/{media_id}?expires={expires}"
        return web.json_response({"messaging_product": "whatsapp", "url": url,
                                  "mime_type": obj.mime_type, "sha256": obj.sha256,
                                  "file_size": str(obj.size), "id": media_id})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token")
        obj = self.objects.get(request.match_info["media_id"]) or self.uploads.get(
            request.match_info["media_id"])
        try:
            expires = int(request.query.get("expires", "0"))
        except ValueError:
            expires = 0
        if obj is None or expires < time.time() * 1000:
            return _error(404, 100, "URL expired or unknown")
        if self.download_faults > 0:
            self.download_faults -= 1
            return _error(500, 131000, "stub fault: download failed")
        if obj.data is None:  # declared only: stream zeros up to its size
            resp = web.StreamResponse(headers={"Content-Type": obj.mime_type})
            await resp.prepare(request)
            left = obj.size
            chunk = bytes(1 << 16)
            while left > 0:
                await resp.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
            await resp.write_eof()
            return resp
        self.downloads += 1
        return web.Response(body=obj.data, content_type=obj.mime_type.split(";")[0])

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token")
        form = await request.post()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not isinstance(upload, web.FileField):
            return _error(400, 100, "(#100) messaging_product and file are required")
        data = upload.file.read()
        mime = str(form.get("type") or upload.content_type)
        media_id = f"{next(self._ids):016d}"
        self.uploads[media_id] = Stored(data, mime, hashlib.sha256(data).hexdigest(), len(data))
        return web.json_response({"id": media_id})
