"""The console's guards over HTTP, in this process against the real PostgreSQL and Kafka:
CSRF on every POST, a reason for every action, the login limit, cookie flags (Secure over
TLS), the log-in gate, bulk discard and redrive of a filtered set of dead letters
attributed to the operator on ``wa.dlq.ops``, media from the configured store, the
search by flow and step, the commands' answer on a schema not yet migrated, and a
retry that succeeded shown on its conversation's timeline."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import orjson
from aiohttp.test_utils import TestServer

from schemas import headers as h
from schemas.dlq import DlqDecision
from streams.failure.errors import PermanentError, TransientError
from streams.failure.records import Origin, error_headers
from tests.support import kafka as tk
from tests.support.console import add_operator, client, http_login, page_csrf
from tests.support.failure import event
from tests.support.s3 import ACCESS_KEY, REGION, SECRET, s3_server
from tests.support.system import REPO, System, free_port
from tests.support.webhooks import text_message_body
from wastream.config import Settings
from wastream.console import reads
from wastream.console.app import create_app
from wastream.console.reads import Hasher
from wastream.dev.secure import SecureFiles


@asynccontextmanager
async def console(system: System, env: dict[str, str] | None = None,
                  **kw: bool) -> AsyncIterator[str]:
    app = create_app(Settings.from_env({**system.env, **(env or {})}), health_interval_s=60,
                     **kw)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def seed_letters(system: System) -> dict[str, str]:
    """Three letters as the failure router writes them (two transient); name → dlq_id."""
    ids = {}
    for name, exc, offset in [("a", TransientError("graph 503"), 7),
                              ("b", PermanentError("bad input"), 8),
                              ("c", TransientError("db away"), 9)]:
        origin = Origin(system.topic("wa.inbound"), 1, offset)
        hdrs = [*h.to_headers(error_headers(exc, origin, 3)), (h.CORRELATION_ID, b"corr")]
        await tk.produce(system.bootstrap, system.topic("wa.dlq"),
                         [(name.encode(), event(name, 0).to_bytes())], headers=hdrs)
        ids[name] = origin.dlq_id
    return ids


async def test_every_post_needs_the_csrf_token(system: System) -> None:
    await asyncio.to_thread(add_operator, system, "alice", "operator-pass-1", "operator")
    async with console(system) as url, client() as s:
        # The log-in gate: pages redirect, actions are refused.
        async with s.get(f"{url}/dead-letters", allow_redirects=False) as r:
            assert (r.status, r.headers["Location"]) == (303, "/login")
        async with s.post(f"{url}/conversations/x/reset", data={"reason": "r"}) as r:
            assert r.status == 401
        # The login form itself carries a token (double-submit): without it, 403.
        async with s.post(f"{url}/login", data={"name": "alice",
                                                "password": "operator-pass-1"}) as r:
            assert r.status == 403
        assert await http_login(s, url, "alice", "operator-pass-1") == 303
        csrf = await page_csrf(s, f"{url}/dead-letters")
        for path, data in [("/dead-letters/some-id/redrive", {"reason": "r"}),
                           ("/dead-letters/bulk", {"action": "discard", "reason": "r"}),
                           ("/conversations/x/reset", {"reason": "r"}),
                           ("/logout", {})]:
            async with s.post(url + path, data=data, allow_redirects=False) as r:
                assert r.status == 403, path
            async with s.post(url + path, data={**data, "csrf": csrf + "x"},
                              allow_redirects=False) as r:
                assert r.status == 403, path
        # Every action says why (the audit's "why"): with the token but no reason, 400.
        for path, data in [("/dead-letters/some-id/redrive", {"reason": " "}),
                           ("/dead-letters/some-id/discard", {}),
                           ("/dead-letters/bulk", {"action": "redrive"}),
                           ("/conversations/x/reset", {})]:
            async with s.post(url + path, data={**data, "csrf": csrf},
                              allow_redirects=False) as r:
                assert r.status == 400, path
        # Still logged in (the CSRF-less logout did nothing); with the token it works.
        async with s.get(f"{url}/audit", allow_redirects=False) as r:
            assert r.status == 200
        async with s.post(f"{url}/logout", data={"csrf": csrf}, allow_redirects=False) as r:
            assert r.status == 303
        async with s.get(f"{url}/audit", allow_redirects=False) as r:
            assert r.status == 303
    ops = await system.read("wa.dlq.ops", min_count=0, timeout_s=2, settle_s=0.5)
    assert ops == []


async def test_logins_are_rate_limited_and_cookies_strict(system: System) -> None:
    await asyncio.to_thread(add_operator, system, "alice", "operator-pass-1", "operator")
    async with console(system) as url, client() as s:
        for _ in range(5):
            assert await http_login(s, url, "alice", "wrong-password") == 401
        # The sixth attempt is refused even with the right password.
        assert await http_login(s, url, "alice", "operator-pass-1") == 429
    async with console(system) as url, client() as s:  # a fresh process forgets
        async with s.get(f"{url}/login") as r:
            pre = r.cookies["wastream_console_login"]
            assert pre["httponly"]
            assert pre["samesite"] == "Strict"
        assert await http_login(s, url, "alice", "operator-pass-1") == 303
        cookie = next(c for c in s.cookie_jar if c.key == "wastream_console")
        assert cookie["httponly"]
        assert cookie["samesite"] == "Strict"
        assert not cookie["secure"]  # plain http here
    async with (console(system, secure_cookies=True) as url, client() as s,  # behind TLS
                s.get(f"{url}/login") as r):
        assert "Secure" in r.headers["Set-Cookie"]
    conn = await system.db()
    try:
        rows = await conn.fetch("SELECT action FROM console_audit ORDER BY id")
    finally:
        await conn.close()
    assert [r["action"] for r in rows] == ["login_failed"] * 5 + ["login_refused", "login"]


async def _bulk(system: System, action: str, reason: str, done: str) -> dict[str, str]:
    """Three letters seeded and projected; alice applies ``action`` to the two of error
    class Transient from the dead-letters page, and the page says ``done``."""
    await asyncio.to_thread(add_operator, system, "alice", "operator-pass-1", "operator")
    ids = await seed_letters(system)
    system.start_projector()
    await system.wait_rows("SELECT 1 FROM wa_dead_letter_queue", 3, 60)
    async with console(system) as url, client() as s:
        assert await http_login(s, url, "alice", "operator-pass-1") == 303
        csrf = await page_csrf(s, f"{url}/dead-letters?error_class=Transient")
        async with s.post(f"{url}/dead-letters/bulk",
                          data={"csrf": csrf, "action": action, "reason": reason,
                                "error_class": "Transient"}, allow_redirects=False) as r:
            assert r.status == 303
            assert r.headers["Location"] == f"/dead-letters?done={done}"
    return ids


async def test_bulk_discard_of_a_filtered_set(system: System) -> None:
    ids = await _bulk(system, "discard", "known outage", "bulk-discarded:2")
    ops = await system.read("wa.dlq.ops", min_count=2, timeout_s=20, settle_s=1)
    decisions = sorted((d.dlq_id, d.action, d.by, d.reason)
                       for d in (DlqDecision.from_bytes(r.value or b"") for r in ops))
    assert decisions == sorted([(ids["a"], "discard", "alice", "known outage"),
                                (ids["c"], "discard", "alice", "known outage")])
    rows = await system.wait_rows(
        "SELECT message_id FROM wa_dead_letter_queue WHERE status = 'discard'", 2, 30)
    assert sorted(r["message_id"] for r in rows) == sorted([ids["a"], ids["c"]])
    open_ = await system.wait_rows("SELECT message_id FROM wa_dead_letter_queue "
                                   "WHERE status = 'open'", 1, 5)
    assert [r["message_id"] for r in open_] == [ids["b"]]


async def test_bulk_redrive_of_a_filtered_set(system: System) -> None:
    """Each letter of the filter re-published to where it was read, once, the decisions
    on ``wa.dlq.ops`` naming the operator and why; the letter outside it stays open."""
    ids = await _bulk(system, "redrive", "graph is back", "bulk-redriven:2")
    ops = await system.read("wa.dlq.ops", min_count=4, timeout_s=20, settle_s=1)
    decisions = sorted((d.dlq_id, d.action, d.by, d.reason)
                       for d in (DlqDecision.from_bytes(r.value or b"") for r in ops))
    assert decisions == sorted([(ids["a"], "redrive", "alice", "graph is back"),
                                (ids["a"], "redriven", "alice", ""),
                                (ids["c"], "redrive", "alice", "graph is back"),
                                (ids["c"], "redriven", "alice", "")])
    again = await system.read("wa.inbound", min_count=2, timeout_s=20, settle_s=1)
    assert sorted(r.key for r in again) == [b"a", b"c"]
    rows = await system.wait_rows(
        "SELECT message_id FROM wa_dead_letter_queue WHERE status = 'redrive'", 2, 30)
    assert sorted(r["message_id"] for r in rows) == sorted([ids["a"], ids["c"]])


async def test_the_console_hash_is_the_analytics_views_user_hash(system: System) -> None:
    conn = await system.db()
    try:
        await conn.execute(
            "INSERT INTO wa_events (event_id, type, wa_id, received_at, payload, "
            "kafka_partition, kafka_offset) VALUES ('e1', 'message.text', '250788000777', "
            "now(), '{}', 0, 0)")
        in_view = await conn.fetchval("SELECT user_hash FROM analytics_user_activity")
        hasher = await Hasher.load(conn)
    finally:
        await conn.close()
    assert hasher("250788000777") == in_view
    assert hasher("250788000778") != in_view


async def test_media_links_open_the_configured_store(system: System) -> None:
    """With WASTREAM_MEDIA_STORE=s3 a timeline's media link opens the bucket's object
    (operators only), not a file of the local directory the worker never wrote."""
    await asyncio.to_thread(add_operator, system, "alice", "operator-pass-1", "operator")
    await asyncio.to_thread(add_operator, system, "bob", "viewer-pass-1", "viewer")
    with s3_server() as s3:
        bucket = s3.bucket()
        store = s3.store(bucket)
        try:
            key = await store.put(b"a photo of the shop", "image/jpeg")
        finally:
            await store.close()
        env = {"WASTREAM_MEDIA_STORE": "s3", "WASTREAM_MEDIA_S3_BUCKET": bucket,
               "WASTREAM_MEDIA_S3_ENDPOINT_URL": s3.endpoint_url,
               "WASTREAM_MEDIA_S3_REGION": REGION,
               "WASTREAM_MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
               "WASTREAM_MEDIA_S3_SECRET_ACCESS_KEY": SECRET}
        async with console(system, env) as url:
            async with client() as s:
                assert await http_login(s, url, "alice", "operator-pass-1") == 303
                async with s.get(f"{url}/media/{key}") as r:
                    assert r.status == 200
                    assert r.content_type == "image/jpeg"
                    assert await r.read() == b"a photo of the shop"
                async with s.get(f"{url}/media/{'0' * 64}") as r:
                    assert r.status == 404
            async with client() as s:
                assert await http_login(s, url, "bob", "viewer-pass-1") == 303
                async with s.get(f"{url}/media/{key}") as r:
                    assert r.status == 403


async def test_conversations_by_flow_and_step(system: System) -> None:
    """The search form's flow and step, each alone or both: a step typed without a flow
    selects that step in every flow (it was ignored: every conversation came back)."""
    conn = await system.db()
    try:
        await conn.executemany(
            "INSERT INTO chat_state (wa_id, seq, flow, step, event_id, at) "
            "VALUES ($1, 1, $2, $3, 'e', now())",
            [("250788000001", "menu", "main"), ("250788000002", "jobs_find", "place"),
             ("250788000003", "rentals_find", "place"), ("250788000004", "jobs_find", "title")])

        async def found(**kw: str) -> list[str]:
            return sorted(r["wa_id"] for r in await reads.conversations(conn, **kw))

        assert await found(flow="jobs_find") == ["250788000002", "250788000004"]
        assert await found(flow="jobs_find", step="place") == ["250788000002"]
        assert await found(step="place") == ["250788000002", "250788000003"]
        assert len(await found()) == 4
    finally:
        await conn.close()


def test_console_commands_ask_for_migrate_on_a_schema_without_tables(system: System) -> None:
    """``wastream console`` and ``add-operator`` on a schema never migrated: exit 2 and
    what to run, no traceback (the first thing a new operator types)."""
    env = {**system.env, "WASTREAM_DB_SCHEMA": f"{system.schema}_never_migrated"}
    for args, stdin in ((["console", "--port", "0"], ""),
                        (["console", "add-operator", "carol"], "carol-pass-1\n")):
        result = subprocess.run([sys.executable, "-m", "wastream.cli", *args], input=stdin,
                                env=env, capture_output=True, text=True, timeout=60,
                                cwd=REPO, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert "run `wastream migrate` first" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)


async def test_served_over_tls_its_cookies_are_secure(system: System, tmp_path: Path) -> None:
    """``wastream console --tls-cert --tls-key`` serves HTTPS, and a page served so sets
    Secure cookies without being told (the issue: Secure when served over TLS)."""
    tls = SecureFiles(tmp_path / "tls")
    tls.make("127.0.0.1")  # a CA and a certificate for 127.0.0.1 signed by it (openssl)
    port = free_port()
    svc = system.start("console", "console", "--port", str(port), "--tls-cert",
                       str(tls.tls_dir / "broker.pem"), "--tls-key",
                       str(tls.tls_dir / "broker.key"))
    trust = ssl.create_default_context(cafile=str(tls.ca))
    url = f"https://127.0.0.1:{port}"
    async with client() as s:
        for _ in range(150):
            assert svc.alive(), svc.tail()
            try:
                async with s.get(f"{url}/login", ssl=trust) as r:
                    assert r.status == 200
                    cookie = r.headers["Set-Cookie"]
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"no HTTPS on {url}:\n{svc.tail()}")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


async def test_a_retry_that_succeeded_is_on_the_timeline_before_the_reply(
        system: System) -> None:
    """A message that fails transiently once (an injected fault) and then succeeds on its
    first retry (the 1 s tier): wa_retries holds exactly one row for it, and its
    conversation page shows the retry line after the message and before the reply."""
    wa_id = "250788000991"
    system.env_overrides["WASTREAM_FAULTS"] = orjson.dumps(
        [{"match": "FLAKY", "kind": "transient", "attempts": 1}]).decode()
    await asyncio.to_thread(system.start_ingress)
    system.start_worker()
    system.start_projector()
    await asyncio.to_thread(add_operator, system, "alice", "operator-pass-1", "operator")
    status, answer = await system.post_webhook(text_message_body(wa_id, "hi FLAKY"))
    assert status == 200, answer
    corr = answer["correlation_id"]
    ev = await system.wait_rows("SELECT event_id FROM wa_events WHERE wa_id = $1", 1, 60, wa_id)
    assert len(ev) == 1, ev
    event_id = ev[0]["event_id"]
    replies = await system.wait_rows(
        "SELECT outbound_id FROM wa_outbound_messages WHERE in_reply_to = $1", 1, 60, event_id)
    assert replies, "no reply after the retry"
    # The retry's record was written before the reply's: a second row (a duplicate,
    # another attempt) would be projected with it or soon after.
    await system.wait_rows("SELECT 1 FROM wa_retries WHERE wa_id = $1", 1, 10, wa_id)
    await asyncio.sleep(1)
    conn = await system.db()
    try:
        retried = await conn.fetch("SELECT * FROM wa_retries WHERE wa_id = $1", wa_id)
        ref = (await Hasher.load(conn))(wa_id)
    finally:
        await conn.close()
    assert len(retried) == 1, retried
    r = retried[0]
    assert (r["event_id"], r["attempt"], r["tier"], r["delay_s"]) == (
        event_id, 1, "wa.retry.1s", 1)
    assert r["error_class"] == "streams.failure.errors.InjectedTransient"
    assert r["correlation_id"] == corr
    assert r["due_at"] is not None
    assert r["due_at"] > r["at"]

    async with console(system) as url, client() as s:
        assert await http_login(s, url, "alice", "operator-pass-1") == 303
        async with s.get(f"{url}/conversations", params={"number": wa_id}) as resp:
            assert resp.status == 200
        async with s.get(f"{url}/conversations/{ref}") as resp:
            assert resp.status == 200
            page = await resp.text()
    kinds = [row.split('"')[0] for row in page.split('data-kind="')[1:]]
    assert kinds.count("retry") == 1, kinds
    assert "reply" in kinds, kinds
    assert kinds.index("inbound") < kinds.index("retry") < kinds.index("reply"), kinds
    line = page.split('data-kind="retry"')[1].split("</div></div>")[0]
    for part in ("attempt 1", "wa.retry.1s", "InjectedTransient", f"corr {corr}"):
        assert part in line, (part, line)
