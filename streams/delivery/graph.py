"""The client of Meta's messages endpoint, and the dry-run stand-in used when no Graph
URL or token is configured.

``POST {WHATSAPP_GRAPH_URL}/{version}/{phone_number_id}/messages`` with
``Authorization: Bearer {WHATSAPP_ACCESS_TOKEN}``; every failure is raised as a
classified :class:`~streams.failure.errors.GraphError` (Meta's code first, then the HTTP status;
timeouts and connection errors are transient).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson

from streams.failure.errors import GraphTransient, graph_error, phone_number_id
from wastream.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendResult:
    wamid: str | None
    dry_run: bool = False


class MessagesClient(Protocol):
    async def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult: ...

    async def close(self) -> None: ...


class GraphClient:
    """Posts message bodies to the Graph API (one pooled aiohttp session)."""

    def __init__(self, base_url: str, version: str, token: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def url(self, pnid: str) -> str:
        """The messages endpoint of ``pnid``; :class:`GraphBadPathId` (permanent) unless
        it is digits only (it comes from a webhook payload)."""
        return f"{self.base_url}/{self.version}/{phone_number_id(pnid)}/messages"

    async def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult:
        url = self.url(phone_number_id)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(
                    url, data=orjson.dumps(body),
                    headers={"Authorization": f"Bearer {self.token}",
                             "Content-Type": "application/json"}) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except TimeoutError as exc:
            raise GraphTransient(f"Graph API timeout: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise GraphTransient(f"Graph API unreachable: {exc!r}") from exc
        try:
            data = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            data = {}
        if status >= 300:
            err = graph_error(status, data)
            if retry_after and retry_after.isdigit():
                err.retry_after_s = float(retry_after)
            raise err
        messages = data.get("messages") if isinstance(data, dict) else None
        wamid = messages[0].get("id") if isinstance(messages, list) and messages else None
        return SendResult(wamid=wamid)

    async def close(self) -> None:
        """Close the session; a later send opens a new one (an actor of the sender may
        stop on a rebalance while the others go on)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class DryRunClient:
    """Logs what would be sent (the body only at DEBUG: it holds phone numbers and text)."""

    async def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult:
        log.info("dry-run: would POST a %s message from %s", body.get("type", body.get("status")),
                 phone_number_id)
        log.debug("dry-run body: %s", body)
        return SendResult(wamid=None, dry_run=True)

    async def close(self) -> None:
        return None


def client_from_settings(settings: Settings) -> MessagesClient:
    meta = settings.meta
    if meta.graph_url and meta.access_token:
        return GraphClient(meta.graph_url, meta.graph_api_version,
                           meta.access_token.get_secret_value(), settings.sender.graph_timeout_s)
    log.warning("no WHATSAPP_GRAPH_URL / WHATSAPP_ACCESS_TOKEN: the sender runs dry")
    return DryRunClient()
