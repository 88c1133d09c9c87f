"""The sender's answer to a 131047 that arrives anyway (decision 0015): the template
version, once, under its own ledger id; never a dead letter; without a template, 131047
stays permanent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from schemas.outbound import OutboundMessage
from streams.delivery.graph import SendResult
from streams.delivery.ledger import MemoryLedger
from streams.delivery.pacing import Pacer
from streams.delivery.sender import Sender
from streams.engine import messages as m
from streams.failure import errors as e
from streams.failure.records import Origin
from tests.support.ingress import settings_for

TO = "250788000301"
PNID = "106540352242922"

AT = Origin("wa.outbound", 0, 0)  # where the record was read (the sender ignores it)


class Client:
    """Answers 131047 to free-form messages, accepts templates."""

    def __init__(self, template_fails: int = 0) -> None:
        self.sent: list[dict[str, Any]] = []
        self.template_fails = template_fails

    async def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult:
        self.sent.append(body)
        if body["type"] != "template":
            raise e.graph_error(400, {"error": {"code": 131047, "message": "Re-engagement"}})
        if self.template_fails:
            self.template_fails -= 1
            raise e.graph_error(503, {})
        return SendResult(wamid=f"wamid.T{len(self.sent)}")

    async def close(self) -> None:
        return None


class Published:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: Mapping[str, bytes], partition: int | None = None) -> None:
        self.records.append(orjson.loads(value or b"{}"))


def _msg(with_template: bool) -> OutboundMessage:
    tpl = m.template_body(TO, m.TemplateRef("ride_request_closed"), "en")
    return OutboundMessage(outbound_id="wamid.IN:0", wa_id=TO, phone_number_id=PNID,
                           body=m.text_body(TO, "This request is no longer open."),
                           template=tpl if with_template else None)


def _sender(client: Client) -> tuple[Sender, MemoryLedger, Published]:
    ledger, published = MemoryLedger(), Published()
    sender = Sender(settings_for("127.0.0.1:1", "t."), client, ledger,
                    Pacer(rate=1000, recipient_rate=1000, recipient_burst=1000), published)
    return sender, ledger, published


async def test_a_131047_is_answered_by_the_template_once() -> None:
    client = Client()
    sender, ledger, published = _sender(client)
    msg = _msg(with_template=True)
    await sender.process(None, msg.to_bytes(), {}, AT)
    assert [b["type"] for b in client.sent] == ["text", "template"]
    assert ledger.rows["wamid.IN:0:template"] == ("accepted", "wamid.T2")
    assert ledger.rows["wamid.IN:0"] == ("accepted", "wamid.T2")
    (delivery,) = published.records
    assert (delivery["status"], delivery["outbound_id"], delivery["wamid"]) == (
        "accepted", "wamid.IN:0", "wamid.T2")
    await sender.process(None, msg.to_bytes(), {}, AT)  # a redelivery sends nothing again
    assert len(client.sent) == 2


async def test_a_failed_template_is_retried_as_usual_and_still_sent_once() -> None:
    client = Client(template_fails=1)
    sender, ledger, _ = _sender(client)
    msg = _msg(with_template=True)
    with pytest.raises(e.GraphTransient):  # to the retry tiers
        await sender.process(None, msg.to_bytes(), {}, AT)
    await sender.process(None, msg.to_bytes(), {}, AT)  # the retry
    assert [b["type"] for b in client.sent] == ["text", "template", "text", "template"]
    assert ledger.rows["wamid.IN:0:template"][0] == "accepted"


async def test_a_131047_without_a_template_stays_permanent() -> None:
    client = Client()
    sender, ledger, _ = _sender(client)
    with pytest.raises(e.GraphOutsideWindow):
        await sender.process(None, _msg(with_template=False).to_bytes(), {}, AT)
    assert [b["type"] for b in client.sent] == ["text"]
    assert ledger.rows["wamid.IN:0"][0] == "failed"
