"""Building and signing webhook bodies the way Meta does."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson

PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
WABA_ID = "102290129340398"


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def text_message_body(
    wa_id: str, text: str, wamid: str | None = None, ts: int | None = None, name: str = "Test User"
) -> bytes:
    ts = ts or int(time.time())
    wamid = wamid or f"wamid.TEST{wa_id}{time.time_ns()}"
    return orjson.dumps(
        envelope(
            [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(ts),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
            contacts=[{"profile": {"name": name}, "wa_id": wa_id}],
        )
    )


def envelope(
    messages: list[dict[str, Any]],
    contacts: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
    }
    if contacts:
        value["contacts"] = contacts
    if messages:
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }
