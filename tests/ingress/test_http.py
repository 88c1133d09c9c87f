"""The ingress app in-process against the real broker: answers, records, headers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections import webhook_logs
from projections.base import Msg
from schemas import headers, topics
from schemas.envelope import InboundEvent
from tests.support.ingress import Ingress, running_ingress
from tests.support.system import APP_SECRET, VERIFY_TOKEN
from tests.support.webhooks import envelope, sign, text_message_body


@pytest.fixture
async def ingress(dev_stack: dict[str, str]) -> AsyncIterator[Ingress]:
    async with running_ingress(dev_stack["bootstrap"],
                               WASTREAM_INGRESS_MAX_BODY_BYTES="200000") as ing:
        yield ing


async def test_verification_handshake(ingress: Ingress) -> None:
    q = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    async with ingress.client.get("/webhook", params=q) as r:
        assert r.status == 200
        assert r.content_type == "text/plain"
        assert await r.text() == "1158201444"
    for bad in ({**q, "hub.verify_token": "nope"}, {**q, "hub.mode": "unsubscribe"},
                {k: v for k, v in q.items() if k != "hub.challenge"}, {}):
        async with ingress.client.get("/webhook", params=bad) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "verification_failed"


async def test_text_message_is_stored_with_envelope_headers_and_raw(ingress: Ingress) -> None:
    body = text_message_body("250788000001", "hello", wamid="wamid.HTTP1")
    status, answer = await ingress.post(body, headers={"X-Request-Id": "req-42"})
    assert (status, answer["events"]) == (200, 1)
    cid = answer["correlation_id"]
    assert cid != "req-42"  # the ingress names each body itself
    [rec] = await ingress.read(topics.INBOUND, min_count=1)
    assert rec.key == b"250788000001"
    assert rec.headers[headers.CORRELATION_ID] == cid.encode()
    ev = InboundEvent.from_bytes(rec.value or b"")
    assert (ev.event_id, ev.type, ev.wa_id) == ("wamid.HTTP1", "message.text", "250788000001")
    assert ev.timestamp == int(orjson.loads(body)["entry"][0]["changes"][0]["value"][
        "messages"][0]["timestamp"])
    assert ev.payload["text"]["body"] == "hello"
    assert ev.correlation_id == cid
    assert ev.profile_name == "Test User"
    [raw] = await ingress.read(topics.RAW, min_count=1)
    assert raw.value == body
    assert raw.key == cid.encode()
    assert raw.headers[headers.CORRELATION_ID] == cid.encode()
    assert raw.headers[headers.CLIENT_REQUEST_ID] == b"req-42"  # kept for tracing
    assert headers.RECEIVED_AT in raw.headers


async def test_a_reused_x_request_id_keeps_every_raw_body(ingress: Ingress) -> None:
    """A client's X-Request-Id does not key the raw body: two bodies sent with the same
    one are two webhook_logs rows, not one row and a dropped body."""
    bodies = [text_message_body("250788000001", f"hello {i}") for i in range(2)]
    answers = [await ingress.post(b, headers={"X-Request-Id": "same-id"}) for b in bodies]
    assert [status for status, _ in answers] == [200, 200]
    raws = await ingress.read(topics.RAW, min_count=2)
    assert sorted(r.value for r in raws) == sorted(bodies)
    rows = [webhook_logs.row(Msg(topics.RAW, r.partition, r.offset, r.key, r.value,
                                 tuple(r.headers.items()), r.timestamp)) for r in raws]
    keys = {row[0] for row in rows if row is not None}
    assert keys == {a["correlation_id"] for _, a in answers}
    assert len(keys) == 2
    assert {r.headers[headers.CLIENT_REQUEST_ID] for r in raws} == {b"same-id"}


async def test_signature_is_checked_before_anything_else(ingress: Ingress) -> None:
    body = text_message_body("250788000002", "x")
    status, answer = await ingress.post(body, secret=None)
    assert (status, answer["error"]["code"]) == (401, "signature_missing")
    status, answer = await ingress.post(body, secret="wrong-secret")  # noqa: S106
    assert (status, answer["error"]["code"]) == (403, "signature_invalid")
    good = sign(body, APP_SECRET)
    flipped = good[:-1] + ("1" if good[-1] == "0" else "0")  # one hex digit off
    for header in ["sha1=" + good[7:], good[7:], flipped]:
        status, _ = await ingress.post(body, secret=None, headers={"X-Hub-Signature-256": header})
        assert status == 403, header
    # garbage that is not even JSON, unsigned: 401, not 400 (no parsing before the check)
    status, _ = await ingress.post(b"{not json", secret=None)
    assert status == 401
    status, _ = await ingress.post(body, secret=None,
                                   headers={"X-Hub-Signature-256": "sha256=" + good[7:].upper()})
    assert status == 200
    assert len(await ingress.read(topics.INBOUND, min_count=1, settle_s=0.5)) == 1


async def test_mac_over_received_bytes_with_non_ascii_and_escapes(ingress: Ingress) -> None:
    # Meta escapes non-ASCII as \uXXXX; the same text raw UTF-8 is a different body.
    escaped = (b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":'
               b'"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":'
               b'"106540352242922"},"messages":[{"from":"250788000003","id":"wamid.ESC","timestamp"'
               b':"1700000000","type":"text","text":{"body":"caf\\u00e9 \\ud83d\\ude95 '
               b'Murakoze"}}]}}]}]}').replace(b"1700000000", str(int(time.time())).encode())
    utf8 = escaped.replace(b"caf\\u00e9 \\ud83d\\ude95", "café 🚕".encode()).replace(
        b"wamid.ESC", b"wamid.UTF")
    for body in (escaped, utf8):
        status, _ = await ingress.post(body)
        assert status == 200
    recs = await ingress.read(topics.INBOUND, min_count=2)
    texts = sorted(InboundEvent.from_bytes(r.value or b"").payload["text"]["body"] for r in recs)
    assert texts == ["café 🚕 Murakoze", "café 🚕 Murakoze"]
    raws = {r.value for r in await ingress.read(topics.RAW, min_count=2)}
    assert raws == {escaped, utf8}  # stored verbatim, escapes and all
    # re-serialising the escaped body (what a sloppy verifier would sign) does not verify
    resigned = orjson.dumps(orjson.loads(escaped))
    assert resigned != escaped
    status, _ = await ingress.post(escaped, secret=None,
                                   headers={"X-Hub-Signature-256": sign(resigned, APP_SECRET)})
    assert status == 403


async def test_bad_input_answers(ingress: Ingress) -> None:
    cases = [
        (b"{not json", {}, 400, "invalid_json"),
        (b'{"object":"page","entry":[]}', {}, 400, "not_whatsapp_payload"),
        (b"[1,2,3]", {}, 400, "not_whatsapp_payload"),
        (text_message_body("1", "x"), {"Content-Type": "text/plain"}, 415,
         "unsupported_media_type"),
        (b"x" * 200_001, {}, 413, "body_too_large"),
    ]
    for body, hdrs, status, code in cases:
        got, answer = await ingress.post(body, headers=hdrs)
        assert (got, answer["error"]["code"]) == (status, code), body[:40]
        assert answer["error"]["message"]
    # a chunked body (no Content-Length) over the limit is cut off too (its signature
    # well-formed: a malformed one is refused before any read)
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(30):
            yield b"y" * 10_000

    async with ingress.client.post("/webhook", data=chunks(), headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "00" * 32}) as r:
        assert r.status == 413
    async with ingress.client.get("/nope") as r:
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "http_error"
    async with ingress.client.put("/webhook") as r:
        assert r.status == 405
        assert (await r.json())["error"]["code"] == "http_error"
        assert r.headers["Allow"] == "HEAD, GET, POST"
        assert r.headers["X-Request-Id"]
    async with ingress.client.head("/healthz") as r:
        assert r.status == 200
    async with ingress.client.post("/healthz") as r:
        assert r.status == 405
    # nothing of the above reached Kafka
    assert await ingress.read(topics.INBOUND, min_count=1, timeout_s=1.0) == []


async def test_health_ready_and_metrics(ingress: Ingress) -> None:
    async with ingress.client.get("/healthz") as r:
        assert r.status == 200
    async with ingress.client.get("/readyz") as r:
        assert (r.status, (await r.json())["ready"]) == (200, True)
    status, _ = await ingress.post(text_message_body("250788000004", "m"))
    assert status == 200
    await ingress.post(b"{", headers={})
    async with ingress.client.get("/metrics") as r:
        assert r.status == 404  # not on the public webhook port
    async with ingress.health.get("/metrics") as r:
        text = await r.text()
    assert 'wastream_ingress_requests_total{route="/webhook",status="200"} 1.0' in text
    assert 'wastream_ingress_requests_total{route="/webhook",status="400"} 1.0' in text
    assert 'wastream_ingress_events_total{type="message.text"} 1.0' in text
    assert "wastream_ingress_produce_seconds_count 1.0" in text
    assert "wastream_ingress_request_seconds_count 2.0" in text
    assert 'wastream_ingress_request_seconds_bucket{le="+Inf"} 2.0' in text
    async with ingress.client.get("/nope") as r:
        assert r.status == 404
    async with ingress.health.get("/metrics") as r:
        text = await r.text()
    assert 'wastream_ingress_requests_total{route="unmatched",status="404"} 2.0' in text
    assert "process_resident_memory_bytes" in text
    async with ingress.health.get("/readyz") as r:
        assert (r.status, (await r.json())["kafka"]) == (200, True)


async def test_concurrent_posts_all_land(ingress: Ingress) -> None:
    bodies = [text_message_body(f"2507880001{i:02d}", f"n{i}", wamid=f"wamid.C{i}")
              for i in range(40)]
    results = await asyncio.gather(*(ingress.post(b) for b in bodies))
    assert [s for s, _ in results] == [200] * 40
    recs = await ingress.read(topics.INBOUND, min_count=40, settle_s=0.5)
    assert sorted(InboundEvent.from_bytes(r.value or b"").event_id for r in recs) == sorted(
        f"wamid.C{i}" for i in range(40))


async def test_info_logs_carry_no_phone_numbers_or_text(ingress: Ingress,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="ingress")
    pii = ("250788999111", "my secret address", "Alice Uwase")
    body = text_message_body(pii[0], pii[1], name=pii[2])
    assert (await ingress.post(body))[0] == 200
    assert (await ingress.post(body, secret="wrong"))[0] == 403  # noqa: S106
    lines = [(r.levelno, f"{r.getMessage()} {r.__dict__}") for r in caplog.records
             if r.name.startswith(("ingress", "schemas"))]
    info = "\n".join(text for level, text in lines if level >= logging.INFO)
    debug = "\n".join(text for level, text in lines if level < logging.INFO)
    assert "webhook rejected" in info
    assert pii[0] in debug  # the user's number is there for debugging, at DEBUG only
    for value in pii:
        assert value not in info


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(
    st.binary(max_size=300),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                           st.text(max_size=10)),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c,
                                                                    max_size=4),
                 max_leaves=15).map(orjson.dumps)),
    signed=st.booleans(), ctype=st.sampled_from(["application/json", "text/plain", ""]))
async def test_the_http_layer_never_answers_500(ingress: Ingress, body: bytes, signed: bool,
                                                ctype: str) -> None:
    hdrs = {"Content-Type": ctype} if ctype else {}
    status, answer = await ingress.post(body, secret=APP_SECRET if signed else None,
                                        headers=hdrs)
    assert status in {200, 400, 401, 403, 415}, (status, answer)
    assert isinstance(answer, dict)


async def test_a_body_near_the_3_mib_limit_is_stored_whole(dev_stack: dict[str, str]) -> None:
    """Over the broker's 1 MiB message limit uncompressed: the raw copy goes gzip'd."""
    now = str(int(time.time()))  # inside the dedupe window (older updates are dropped)
    msgs = [{"from": f"2507881{i % 10:05d}", "id": f"wamid.BIG{i}", "timestamp": now,
             "type": "text", "text": {"body": f"{i} " + "x" * 2800}} for i in range(1000)]
    body = orjson.dumps(envelope(msgs))
    assert 2_900_000 < len(body) < 3 * 1024 * 1024
    async with running_ingress(dev_stack["bootstrap"]) as ing:
        status, answer = await ing.post(body)
        assert (status, answer["events"]) == (200, 1000)
        [raw] = await ing.read(topics.RAW, min_count=1)
        assert raw.value == body
        assert len(await ing.read(topics.INBOUND, min_count=1000)) == 1000


async def test_insecure_dev_mode_accepts_unsigned_bodies_and_says_so(
        dev_stack: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="ingress")
    async with running_ingress(dev_stack["bootstrap"], insecure_dev=True,
                               WHATSAPP_APP_SECRET="") as ing:
        status, _ = await ing.post(text_message_body("250788000005", "dev"), secret=None)
        assert status == 200
    assert any(r.levelname == "CRITICAL" and "INSECURE" in r.getMessage() for r in caplog.records)
