"""The stand-in Graph API's window and templates (standins/waba.py), through the real
Graph client, so each refusal is also seen classified as the sender will see it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from standins.graph import GraphStub
from streams.delivery.graph import GraphClient
from streams.domains.rides.templates import RIDE_CLOSED, RIDE_REQUEST, TRIP_REMINDER
from streams.engine import messages as m
from streams.engine.messages import Option
from streams.engine.templates import meta_definition
from streams.failure import errors as e

PNID = "106540352242922"
WABA = "102290129340398"
QUIET, RECENT = "250788000401", "250788000402"


@pytest.fixture
async def stub() -> AsyncIterator[GraphStub]:
    stub = await GraphStub().start()
    stub.waba.window_s = 86400
    stub.waba.wrote(QUIET, time.time() - 25 * 3600)
    stub.waba.wrote(RECENT, time.time() - 60)
    yield stub
    await stub.stop()


@pytest.fixture
async def client(stub: GraphStub) -> AsyncIterator[GraphClient]:
    client = GraphClient(stub.url, "v21.0", stub.token)
    yield client
    await client.close()


def template(to: str, ref: m.TemplateRef, lang: str = "en") -> dict[str, Any]:
    return m.template_body(to, ref, lang)


async def api(stub: GraphStub, method: str, path: str,
              body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.request(
            method, f"{stub.url}{path}", data=orjson.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {stub.token}"}) as r:
        return r.status, await r.json()


async def test_free_form_to_a_quiet_user_is_refused_with_131047(
        stub: GraphStub, client: GraphClient) -> None:
    with pytest.raises(e.GraphOutsideWindow) as raised:
        await client.send(PNID, m.text_body(QUIET, "hello"))
    assert raised.value.code == 131047
    buttons = m.buttons_body(QUIET, "Accept?", [Option("a", "Accept")])
    with pytest.raises(e.GraphOutsideWindow):
        await client.send(PNID, buttons)
    assert (await client.send(PNID, m.text_body(RECENT, "hello"))).wamid
    with pytest.raises(e.GraphOutsideWindow):  # never wrote: no window at all
        await client.send(PNID, m.text_body("250788000499", "hello"))
    stub.waba.wrote(QUIET, time.time())  # writes again: the window opens
    assert (await client.send(PNID, m.text_body(QUIET, "hello"))).wamid
    assert [s.answer for s in stub.seen] == [400, 400, 200, 400, 200]


async def test_without_a_window_setting_free_form_always_goes(client: GraphClient,
                                                              stub: GraphStub) -> None:
    stub.waba.window_s = None
    assert (await client.send(PNID, m.text_body(QUIET, "hello"))).wamid


async def test_template_goes_only_when_approved_in_that_language(
        stub: GraphStub, client: GraphClient) -> None:
    ref = RIDE_REQUEST.ref("1.2", "moto", buttons=("ride:accept:1", "ride:decline:1"))
    with pytest.raises(e.GraphTemplateUnavailable) as raised:  # unknown
        await client.send(PNID, template(QUIET, ref))
    assert raised.value.code == 132001
    stub.waba.create(meta_definition(RIDE_REQUEST, "en"))  # PENDING
    with pytest.raises(e.GraphTemplateUnavailable):
        await client.send(PNID, template(QUIET, ref))
    stub.waba.set_status("ride_request", "APPROVED")
    assert (await client.send(PNID, template(QUIET, ref))).wamid  # window closed: fine
    with pytest.raises(e.GraphTemplateUnavailable):  # not in French
        await client.send(PNID, template(QUIET, ref, "fr"))
    stub.waba.set_status("ride_request", "PAUSED")
    with pytest.raises(e.GraphTemplateUnavailable) as raised:
        await client.send(PNID, template(QUIET, ref))
    assert raised.value.code == 132015
    stub.waba.set_status("ride_request", "DISABLED")
    with pytest.raises(e.GraphTemplateUnavailable) as raised:
        await client.send(PNID, template(QUIET, ref))
    assert raised.value.code == 132016


async def test_template_parameters_and_buttons_must_match(stub: GraphStub,
                                                         client: GraphClient) -> None:
    stub.waba.approve([TRIP_REMINDER, RIDE_REQUEST])
    good = TRIP_REMINDER.ref("moto", "08:00")
    assert (await client.send(PNID, template(QUIET, good))).wamid
    with pytest.raises(e.GraphTemplateInvalid) as raised:
        await client.send(PNID, template(QUIET, m.TemplateRef("trip_reminder", ("moto",))))
    assert raised.value.code == 132000
    three = m.TemplateRef("ride_request", ("1", "moto"), ("a", "b", "c"))
    with pytest.raises(e.GraphTemplateInvalid):  # two quick replies, a third payload
        await client.send(PNID, template(QUIET, three))
    assert (await client.send(PNID, template(QUIET, m.TemplateRef(
        "ride_request", ("1", "moto"), ("a", "b")), "rw"))).wamid


async def test_create_list_and_approve_templates_over_http(stub: GraphStub) -> None:
    status, made = await api(stub, "POST", f"/v21.0/{WABA}/message_templates",
                             meta_definition(RIDE_REQUEST, "fr"))
    assert status == 200
    assert made["status"] == "PENDING"
    assert made["category"] == "UTILITY"
    status, refused = await api(stub, "POST", f"/v21.0/{WABA}/message_templates",
                              meta_definition(RIDE_REQUEST, "fr"))
    assert (status, refused["error"]["code"]) == (400, 100)  # exists in that language
    no_example = meta_definition(TRIP_REMINDER, "en")
    del no_example["components"][0]["example"]
    status, _ = await api(stub, "POST", f"/v21.0/{WABA}/message_templates", no_example)
    assert status == 400
    await api(stub, "POST", f"/v21.0/{WABA}/message_templates",
              meta_definition(RIDE_CLOSED, "en"))
    status, listed = await api(stub, "GET", f"/v21.0/{WABA}/message_templates")
    assert status == 200
    assert [(t["name"], t["language"], t["status"]) for t in listed["data"]] == [
        ("ride_request", "fr", "PENDING"), ("ride_request_closed", "en", "PENDING")]
    assert listed["data"][0]["components"][1]["buttons"][0] == {
        "type": "QUICK_REPLY", "text": "Accepter"}
    await api(stub, "POST", "/_stub/templates/ride_request/status", {"status": "APPROVED"})
    _, listed = await api(stub, "GET", f"/v21.0/{WABA}/message_templates?limit=1")
    assert [t["status"] for t in listed["data"]] == ["APPROVED"]
    assert "after=1" in listed["paging"]["next"]
    async with aiohttp.ClientSession() as s, s.get(
            f"{stub.url}/v21.0/{WABA}/message_templates") as r:
        assert r.status == 401


async def test_pending_templates_are_approved_after_the_configured_delay(
        stub: GraphStub) -> None:
    stub.waba.approve_after_s = 0.0
    await api(stub, "POST", f"/v21.0/{WABA}/message_templates",
              meta_definition(RIDE_CLOSED, "en"))
    _, listed = await api(stub, "GET", f"/v21.0/{WABA}/message_templates")
    assert [t["status"] for t in listed["data"]] == ["APPROVED"]
    stub.waba.approve_after_s = 3600.0
    await api(stub, "POST", f"/v21.0/{WABA}/message_templates",
              meta_definition(RIDE_CLOSED, "fr"))
    _, listed = await api(stub, "GET", f"/v21.0/{WABA}/message_templates")
    assert [t["status"] for t in listed["data"]] == ["APPROVED", "PENDING"]


async def test_the_window_is_told_over_http(stub: GraphStub, client: GraphClient) -> None:
    async with aiohttp.ClientSession() as s:
        await s.post(f"{stub.url}/_stub/inbound",
                     data=orjson.dumps({"wa_id": QUIET, "timestamp": time.time() - 5}))
    assert (await client.send(PNID, m.text_body(QUIET, "hello"))).wamid
