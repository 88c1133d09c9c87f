"""A template that is not APPROVED is not sent (decision 0015): Meta's template webhooks
become ``wa.templates`` changes, the sender folds them and holds a message whose
template is PENDING, PAUSED, DISABLED, REJECTED or unknown as a ``template_unavailable``
dead letter; Meta's 132001/132015/132016 end in the same hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.delivery import rank
from schemas.meta import parse_bytes
from schemas.outbound import OutboundMessage
from schemas.templates import TemplateChange, from_event
from streams.delivery.graph import SendResult
from streams.delivery.ledger import MemoryLedger
from streams.delivery.pacing import Pacer
from streams.delivery.sender import Sender
from streams.delivery.templates import TemplateStatuses
from streams.engine import messages as m
from streams.failure import errors as e
from streams.failure.records import Origin, error_headers
from tests.support.engine_harness import Harness
from tests.support.ingress import settings_for
from tests.templates.test_sender_fallback import Published

DATA = Path(__file__).resolve().parents[1] / "data" / "whatsapp"
TO = "250788000401"
PNID = "106540352242922"
AT = Origin("wa.outbound", 0, 7)
WABA = "102290129340398"


def status_webhook(name: str, lang: str, status: str, at: int = 1_790_000_000,
                   reason: str = "NONE") -> bytes:
    return orjson.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": WABA, "time": at, "changes": [{"field": "message_template_status_update",
                                               "value": {"event": status,
                                                         "message_template_id": 77,
                                                         "message_template_name": name,
                                                         "message_template_language": lang,
                                                         "reason": reason}}]}]})


def change(name: str, lang: str, status: str, at: int = 1_790_000_000) -> TemplateChange:
    (ev,) = parse_bytes(status_webhook(name, lang, status, at), correlation_id="c",
                        received_at="2026-12-02T00:00:00+00:00")
    c = from_event(ev)
    assert c is not None
    return c


def test_meta_template_webhooks_become_changes_through_the_engine() -> None:
    h = Harness()
    kinds = {}
    for fixture in ("template_status_update__rejected__pywa.json",
                    "template_quality_update__yellow__pywa.json",
                    "template_category_update__marketing__pywa.json"):
        (ev,) = parse_bytes((DATA / fixture).read_bytes(), correlation_id="c",
                            received_at="2026-12-02T00:00:00+00:00")
        out = h.deliver(ev)
        assert out is not None
        assert out.replies == []
        (c,) = out.templates
        kinds[c.kind] = c
    rejected = kinds["status"]
    assert (rejected.name, rejected.language, rejected.status) == (
        "abandoned_cart", "en", "REJECTED")
    assert rejected.reason is not None
    assert rejected.reason.startswith("INVALID_FORMAT: ")
    assert rejected.meta_ts == 1751247548
    assert rejected.waba_id == WABA
    assert kinds["quality"].quality == "YELLOW"
    assert kinds["quality"].status is None
    assert kinds["category"].category == "MARKETING"
    assert rejected.key == b"abandoned_cart:en:status"
    assert h.sent == []
    assert h.transitions == []


def test_statuses_fold_by_meta_time_and_say_why_a_template_is_held() -> None:
    s = TemplateStatuses()
    key = ("ride_request", "en")
    with pytest.raises(e.TemplateUnavailable, match="UNKNOWN"):
        s.check(key)  # never reported: held by default
    TemplateStatuses(hold_unknown=False).check(key)  # WASTREAM_TEMPLATE_UNKNOWN=send
    assert s.apply(change(*key, "APPROVED", at=100)) is True
    s.check(key)
    assert s.apply(change(*key, "PAUSED", at=200)) is False
    with pytest.raises(e.TemplateUnavailable) as held:
        s.check(key)
    assert "'ride_request' in 'en' is PAUSED" in str(held.value)
    assert held.value.error_class == "template_unavailable"
    assert s.apply(change(*key, "APPROVED", at=150)) is False  # older than the pause
    assert s.status(key) == "PAUSED"
    assert s.apply(change(*key, "APPROVED", at=300)) is True
    assert s.approved(key)


class Client:
    """Accepts everything, or answers a Graph error code to templates."""

    def __init__(self, template_code: int | None = None, free_form_code: int | None = None
                 ) -> None:
        self.sent: list[dict[str, Any]] = []
        self.template_code = template_code
        self.free_form_code = free_form_code

    async def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult:
        self.sent.append(body)
        code = self.template_code if body["type"] == "template" else self.free_form_code
        if code is not None:
            raise e.graph_error(400, {"error": {"code": code, "message": "refused"}})
        return SendResult(wamid=f"wamid.S{len(self.sent)}")

    async def close(self) -> None:
        return None


def sender(client: Client, statuses: TemplateStatuses) -> tuple[Sender, MemoryLedger, Published]:
    ledger, published = MemoryLedger(), Published()
    s = Sender(settings_for("127.0.0.1:1", "t."), client, ledger,
               Pacer(rate=1000, recipient_rate=1000, recipient_burst=1000), published,
               templates=statuses)
    statuses.ready.set()
    return s, ledger, published


def template_msg(free_form_first: bool = False) -> OutboundMessage:
    tpl = m.template_body(TO, m.TemplateRef("ride_request_closed"), "en")
    body = m.text_body(TO, "This request is no longer open.") if free_form_first else tpl
    return OutboundMessage(outbound_id="wamid.IN:1", wa_id=TO, phone_number_id=PNID,
                           body=body, template=tpl)


@pytest.mark.parametrize("status", ["PENDING", "PAUSED", "DISABLED", "REJECTED", None])
async def test_a_template_not_approved_is_held_not_sent(status: str | None) -> None:
    statuses = TemplateStatuses()
    if status is not None:
        statuses.apply(change("ride_request_closed", "en", status))
    client = Client()
    s, ledger, published = sender(client, statuses)
    with pytest.raises(e.TemplateUnavailable) as held:
        await s.process(None, template_msg().to_bytes(), {}, AT)
    assert client.sent == []
    assert ledger.rows["wamid.IN:1"][0] == "failed"  # a redrive may claim it again
    assert f"is {status or 'UNKNOWN'}" in str(held.value)
    hdrs = error_headers(held.value, AT, 1)
    assert hdrs["wastream.error_class"] == "template_unavailable"
    assert hdrs["wastream.error_kind"] == "permanent"
    # the dead letter's delivery record: held, below accepted (the release replaces it)
    await s.on_dead_letter(None, template_msg().to_bytes(), held.value)
    assert [d["status"] for d in published.records] == ["held"]
    assert rank("held") < rank("accepted")
    # approved again: the same record (a redrive) is sent
    statuses.apply(change("ride_request_closed", "en", "APPROVED", at=1_790_000_100))
    await s.process(None, template_msg().to_bytes(), {}, AT)
    assert [b["type"] for b in client.sent] == ["template"]
    assert ledger.rows["wamid.IN:1"] == ("accepted", "wamid.S1")


async def test_the_131047_fallback_holds_a_paused_template_too() -> None:
    statuses = TemplateStatuses()
    statuses.apply(change("ride_request_closed", "en", "PAUSED"))
    client = Client(free_form_code=131047)
    s, ledger, _ = sender(client, statuses)
    with pytest.raises(e.TemplateUnavailable):
        await s.process(None, template_msg(free_form_first=True).to_bytes(), {}, AT)
    assert [b["type"] for b in client.sent] == ["text"]  # the template was not tried
    assert "wamid.IN:1:template" not in ledger.rows


@pytest.mark.parametrize(("code", "status"), [
    (132001, "MISSING"), (132015, "PAUSED"), (132016, "DISABLED")])
async def test_meta_template_errors_end_in_the_same_hold(code: int, status: str) -> None:
    statuses = TemplateStatuses()
    statuses.apply(change("ride_request_closed", "en", "APPROVED"))
    client = Client(template_code=code)
    s, _, _ = sender(client, statuses)
    with pytest.raises(e.GraphTemplateUnavailable) as refused:
        await s.process(None, template_msg().to_bytes(), {}, AT)
    assert error_headers(refused.value, AT, 1)["wastream.error_class"] == "template_unavailable"
    # what Meta said is kept: the next message of that template is held without a POST
    other = OutboundMessage(outbound_id="wamid.IN:2", wa_id=TO, phone_number_id=PNID,
                            body=template_msg().body)
    with pytest.raises(e.TemplateUnavailable, match=status):
        await s.process(None, other.to_bytes(), {}, AT)
    assert len(client.sent) == 1


def test_a_template_approved_again_is_a_new_event_a_retried_webhook_is_not() -> None:
    def event_id(body: bytes) -> str:
        (ev,) = parse_bytes(body, correlation_id="c", received_at="2026-12-02T00:00:00+00:00")
        return ev.event_id

    first = status_webhook("ride_request", "en", "APPROVED", at=100)
    assert event_id(first) == event_id(first)  # Meta's retry of the same POST
    assert event_id(first) != event_id(status_webhook("ride_request", "en", "APPROVED", at=500))
