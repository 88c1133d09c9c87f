"""A 131047 that Meta reports later, in a ``failed`` status webhook for a free-form
message it had accepted (decision 0015): the engine asks for the template version, and
the sender sends it once, under the same ledger id as the synchronous fallback."""

from __future__ import annotations

import orjson

from schemas.meta import parse_bytes
from schemas.outbound import OutboundMessage
from streams.delivery.templates import TemplateStatuses
from streams.engine import messages as m
from tests.support.engine_harness import Harness
from tests.templates.test_held import AT, PNID, TO, Client, change, sender


def failed_status(wamid: str, code: int) -> bytes:
    return orjson.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PNID},
            "statuses": [{"id": wamid, "status": "failed", "timestamp": "1790000000",
                          "recipient_id": TO,
                          "errors": [{"code": code, "title": "Re-engagement message"}]}]}}]}]})


def test_a_failed_status_with_131047_asks_for_the_template_version() -> None:
    h = Harness()
    (ev,) = parse_bytes(failed_status("wamid.FREE", 131047), correlation_id="c",
                        received_at="2026-12-02T00:00:00+00:00")
    out = h.deliver(ev)
    assert out is not None
    assert out.template_of == ["wamid.FREE"]
    assert [d["status"] for d in out.delivery] == ["failed"]
    (other,) = parse_bytes(failed_status("wamid.OTHER", 131026), correlation_id="c",
                           received_at="2026-12-02T00:00:00+00:00")
    out = h.deliver(other)
    assert out is not None
    assert out.template_of == []  # undeliverable: no template helps


def free_form() -> OutboundMessage:
    tpl = m.template_body(TO, m.TemplateRef("ride_request_closed"), "en")
    return OutboundMessage(outbound_id="wamid.IN:5", wa_id=TO, phone_number_id=PNID,
                           body=m.text_body(TO, "This request is no longer open."),
                           template=tpl)


def request(wamid: str, n: int = 1) -> OutboundMessage:
    return OutboundMessage(outbound_id=f"{wamid}:failed:{n}:template", wa_id=TO,
                           phone_number_id=PNID, body={}, template_of=wamid)


async def test_the_template_version_is_sent_once_after_a_late_131047() -> None:
    statuses = TemplateStatuses()
    statuses.apply(change("ride_request_closed", "en", "APPROVED"))
    client = Client()
    s, ledger, published = sender(client, statuses)
    await s.process(None, free_form().to_bytes(), {}, AT)  # Meta accepts it (wamid.S1)
    assert ledger.rows["wamid.IN:5"] == ("accepted", "wamid.S1")
    await s.process(None, request("wamid.S1").to_bytes(), {}, AT)  # then fails it: 131047
    assert [b["type"] for b in client.sent] == ["text", "template"]
    assert ledger.rows["wamid.IN:5:template"] == ("accepted", "wamid.S2")
    assert ledger.rows["wamid.IN:5"] == ("accepted", "wamid.S2")
    assert [(d["outbound_id"], d["status"], d["wamid"]) for d in published.records] == [
        ("wamid.IN:5", "accepted", "wamid.S1"), ("wamid.IN:5", "accepted", "wamid.S2")]
    # Meta repeats the webhook, or the request is redelivered: nothing is sent again
    await s.process(None, request("wamid.S1", 2).to_bytes(), {}, AT)
    await s.process(None, request("wamid.S1").to_bytes(), {}, AT)
    assert len(client.sent) == 2


async def test_a_late_131047_for_a_message_without_template_sends_nothing() -> None:
    client = Client()
    s, _, _ = sender(client, TemplateStatuses())
    plain = OutboundMessage(outbound_id="wamid.IN:6", wa_id=TO, phone_number_id=PNID,
                            body=m.text_body(TO, "hello"))
    await s.process(None, plain.to_bytes(), {}, AT)
    await s.process(None, request("wamid.S1").to_bytes(), {}, AT)
    assert [b["type"] for b in client.sent] == ["text"]
