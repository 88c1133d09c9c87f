"""The webhooks the stand-in Graph API sends back, as Meta does: signed POSTs of a
template's status (``message_template_status_update``) and of a message's ``failed``
status (a 131047 Meta reports after accepting the send).

References: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update,
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

log = logging.getLogger(__name__)

WABA_ID = "102290129340398"


@dataclass
class Webhooks:
    """Where the stand-in's webhooks go (the ingress) and the app secret they are signed
    with. ``posted``: (field, HTTP status) of every POST."""

    url: str
    app_secret: str
    waba_id: str = WABA_ID
    retry_s: float = 90.0
    posted: list[tuple[str, int]] = field(default_factory=list)

    async def post(self, field_name: str, value: dict[str, Any]) -> int:
        """POST one change (Meta's envelope, signed); its HTTP status (retried for
        ``retry_s`` while the ingress answers 503 or cannot be reached)."""
        body = orjson.dumps({"object": "whatsapp_business_account", "entry": [{
            "id": self.waba_id, "time": int(time.time()),
            "changes": [{"field": field_name, "value": value}]}]})
        sig = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        status, deadline = 0, time.monotonic() + self.retry_s
        while True:
            try:
                async with aiohttp.ClientSession() as s, s.post(
                        self.url, data=body, headers={"Content-Type": "application/json",
                                                      "X-Hub-Signature-256": sig}) as r:
                    status = r.status
            except aiohttp.ClientError as exc:
                log.debug("stand-in webhook not delivered yet: %s", exc)
            if status == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)  # as Meta, again until the ingress takes it
        self.posted.append((field_name, status))
        return status

    async def template_status(self, template_id: str, name: str, language: str, status: str,
                              reason: str = "NONE") -> int:
        return await self.post("message_template_status_update", {
            "event": status, "message_template_id": int(template_id),
            "message_template_name": name, "message_template_language": language,
            "reason": reason})

    async def failed(self, phone_number_id: str, wamid: str, to: str, code: int,
                     title: str) -> int:
        """Meta's ``failed`` status of a message it had accepted."""
        return await self.post("messages", {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881",
                         "phone_number_id": phone_number_id},
            "statuses": [{"id": wamid, "status": "failed", "timestamp": str(int(time.time())),
                          "recipient_id": to,
                          "errors": [{"code": code, "title": title, "message": title,
                                      "error_data": {"details": title}}]}]})
