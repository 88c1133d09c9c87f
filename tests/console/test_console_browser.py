"""The operator console in a real browser (Debian's chromium, headless, via selenium)
against a real system: ingress, worker, projector, the stand-in Graph API, the console.

A user says hi, picks a menu entry and sends an event the worker's injected fault turns
into a dead letter; Meta's status webhooks mark one reply read and one failed. Then: a
viewer sees masked numbers and no actions; an operator reads the timeline in log order,
redrives the dead letter from the page (its status changes, ``wa.dlq.ops`` holds the
decision with the operator's name) and resets the conversation (an event on
``wa.inbound`` naming who and why). Screenshots of every page are saved under
``.wastream/console-screenshots/``."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
import pytest

from schemas.dlq import DlqDecision
from tests.support.console import (
    add_operator,
    browser_login,
    chromium,
    client,
    http_login,
    page_csrf,
    screenshot,
    start_console,
)
from tests.support.system import System, free_port
from tests.support.webhooks import envelope
from wastream.config import Settings
from wastream.driver import ConversationDriver

pytestmark = pytest.mark.timeout(400)
WA_ID = "250788555001"
T = TypeVar("T")


def status_body(wamid: str, status: str, code: int | None = None) -> bytes:
    st: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                          "recipient_id": WA_ID}
    if code is not None:
        st["errors"] = [{"code": code, "title": "Message undeliverable"}]
    return orjson.dumps(envelope([], statuses=[st]))


async def converse(system: System) -> tuple[str, str]:
    """hi → menu, pick the first entry, then a poison message; the (read, failed) wamids'
    outbound ids after the status webhooks are projected."""
    driver = ConversationDriver.from_settings(Settings.from_env(system.env),
                                              system.webhook_url, WA_ID)
    await driver.start()
    try:
        await driver.text("hi")
        assert await driver.replies(1, timeout_s=120)
        await driver.choose(1)
        assert await driver.replies(1, timeout_s=60)
        await driver.text("POISON please")
    finally:
        await driver.stop()
    sent = await system.wait_rows(
        "SELECT outbound_id, wamid FROM wa_outbound_messages WHERE wa_id = $1 "
        "AND wamid IS NOT NULL ORDER BY created_at", 2, 90, WA_ID)
    assert len(sent) >= 2, sent
    first, second = sent[0], sent[1]
    for body in (status_body(first["wamid"], "delivered"), status_body(first["wamid"], "read"),
                 status_body(second["wamid"], "failed", 131026)):
        status, answer = await system.post_webhook(body)
        assert status == 200, answer
    await system.wait_rows("SELECT 1 FROM wa_outbound_messages WHERE outbound_id = $1 "
                           "AND status = 'read'", 1, 60, first["outbound_id"])
    await system.wait_rows("SELECT 1 FROM wa_outbound_messages WHERE outbound_id = $1 "
                           "AND status = 'failed'", 1, 60, second["outbound_id"])
    letters = await system.wait_rows(
        "SELECT message_id FROM wa_dead_letter_queue WHERE from_number = $1", 1, 90, WA_ID)
    assert len(letters) == 1
    return first["outbound_id"], str(letters[0]["message_id"])


def settled(read: Callable[[], T]) -> T:
    """``read()`` again when the page's auto-refresh swapped the elements it was reading."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(5):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.2)
    return read()


def kinds(drv: Any) -> list[tuple[str, str]]:
    from selenium.webdriver.common.by import By

    return settled(lambda: [(e.get_attribute("data-kind"), e.text) for e in
                            drv.find_elements(By.CSS_SELECTOR, "#timeline [data-kind]")])


def dead_letter_text(drv: Any, dlq_id: str) -> str:
    from selenium.webdriver.common.by import By

    return settled(lambda: next((e.text for e in drv.find_elements(
        By.CSS_SELECTOR, "#timeline .item-dead") if dlq_id in e.text), ""))


def viewer_pass(url: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    with chromium() as drv:
        browser_login(drv, url, "bob", "viewer-pass-1")
        drv.get(f"{url}/dead-letters")
        seen = {"redrive_forms": len(drv.find_elements(By.CSS_SELECTOR, "form.redrive")),
                "letters": len(drv.find_elements(By.CSS_SELECTOR, "tr.letter")),
                "number_shown": WA_ID in drv.page_source}
        screenshot(drv, "5-dead-letters-as-viewer")
        drv.get(f"{url}/conversations?number={WA_ID}")
        seen["conv_number_shown"] = WA_ID in drv.page_source
        seen["conv_links"] = len(drv.find_elements(By.CSS_SELECTOR, "a.conv"))
        return seen


def arrive(drv: Any, in_url: str, timeout_s: float = 20) -> None:
    """Wait for the page a click leads to: the click returns before it has loaded (the
    search once read the previous page's DOM and found no link)."""
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(drv, timeout_s).until(lambda d: in_url in d.current_url and d.execute_script(
        "return document.readyState") == "complete")


OVERVIEW_SETTLED = ("graph closed", "projector: events 0", "dead letters, last 60 min total 1")


def operator_pass(url: str, dlq_id: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    out: dict[str, Any] = {}
    with chromium() as drv:
        browser_login(drv, url, "alice", "operator-pass-1")
        assert drv.find_element(By.TAG_NAME, "h1").text == "Overview"
        cookie = drv.get_cookie("wastream_console")
        out["cookie"] = cookie
        # The overview shows readings taken in the background (every 5 s, longer on a
        # loaded machine): reload until they include the conversation, or give up after
        # 60 s and let the assertions below say what is missing.
        deadline = time.monotonic() + 60
        while True:
            text = drv.find_element(By.TAG_NAME, "main").text
            if all(x in text for x in OVERVIEW_SETTLED) or time.monotonic() > deadline:
                break
            time.sleep(2)
            drv.refresh()
        out["charts"] = len(drv.find_elements(By.CSS_SELECTOR, "svg.chart"))
        out["overview_text"] = text
        screenshot(drv, "1-overview")
        # The page refreshes itself (static/refresh.js, every 10 s): a newer reading
        # appears with no reload.
        as_of = drv.find_element(By.ID, "as-of").text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and out.get("as_of_later", as_of) == as_of:
            time.sleep(1)
            out["as_of_later"] = settled(lambda: drv.find_element(By.ID, "as-of").text)
        out["as_of"] = as_of
        drv.get(f"{url}/conversations")
        drv.find_element(By.ID, "number").send_keys(WA_ID)
        drv.find_element(By.ID, "find").click()
        arrive(drv, "number=")
        links = drv.find_elements(By.CSS_SELECTOR, "a.conv")
        out["search"] = [a.text for a in links]
        screenshot(drv, "2-conversations")
        links[0].click()
        arrive(drv, "/conversations/")
        out["timeline"] = kinds(drv)
        screenshot(drv, "3-timeline-before-redrive")
        form = drv.find_element(By.CSS_SELECTOR, "#timeline form.redrive")
        form.find_element(By.NAME, "reason").send_keys("fault fixed, try again")
        form.find_element(By.TAG_NAME, "button").click()
        arrive(drv, "done=", 60)
        out["flash"] = drv.find_element(By.ID, "flash").text
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            drv.refresh()
            text = dead_letter_text(drv, dlq_id)
            if "status: redriven" in text:
                break
            time.sleep(1)
        out["dead_text"] = text
        reset = drv.find_element(By.ID, "reset")
        reset.find_element(By.NAME, "reason").send_keys("user asked to start over")
        reset.find_element(By.TAG_NAME, "button").click()
        arrive(drv, "done=reset", 30)
        out["reset_flash"] = drv.find_element(By.ID, "flash").text
        time.sleep(3)
        drv.refresh()
        out["timeline_after"] = kinds(drv)
        screenshot(drv, "4-timeline-after-redrive-and-reset")
        drv.get(f"{url}/dead-letters")
        screenshot(drv, "6-dead-letters")
        drv.get(f"{url}/analytics")
        # The views are read every 5 minutes: the reading on screen is the console's first,
        # from before the conversation. "read now" reads them again, as an operator would.
        drv.find_element(By.LINK_TEXT, "read now").click()
        arrive(drv, "refresh=1", 60)
        out["analytics_charts"] = len(drv.find_elements(By.CSS_SELECTOR, "svg.chart"))
        out["analytics_text"] = drv.find_element(By.TAG_NAME, "main").text
        out["delivery"] = drv.find_element(By.ID, "delivery").get_attribute("innerHTML")
        out["latency_rows"] = len(drv.find_elements(By.CSS_SELECTOR, "#latency tr"))
        screenshot(drv, "7-funnels-and-delivery")
        drv.get(f"{url}/audit")
        out["audit"] = drv.find_element(By.ID, "audit").text
        screenshot(drv, "8-audit")
    return out


def index_of(items: list[tuple[str, str]], kind: str, text: str, start: int = 0) -> int:
    for i, (k, t) in enumerate(items[start:], start):
        if k == kind and text in t:
            return i
    raise AssertionError(f"no {kind} containing {text!r} after {start} in {items}")


async def test_console_in_a_browser(system: System) -> None:
    stub_port = free_port()
    system.env_overrides.update({
        "WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{stub_port}",
        "WHATSAPP_ACCESS_TOKEN": "console-test-token",
        "WASTREAM_FAULTS": orjson.dumps([{"match": "POISON", "kind": "permanent"}]).decode()})
    system.start("graph-stub", "graph-stub", "--port", str(stub_port),
                 "--token", "console-test-token")
    health = {"ingress": free_port(), "worker": free_port()}
    system.env_overrides["WASTREAM_HEALTH_PORT"] = str(health["ingress"])
    system.start_ingress()
    system.env_overrides["WASTREAM_HEALTH_PORT"] = str(health["worker"])
    system.start_worker()
    del system.env_overrides["WASTREAM_HEALTH_PORT"]
    system.start_projector()
    add_operator(system, "alice", "operator-pass-1", "operator")
    add_operator(system, "bob", "viewer-pass-1", "viewer")
    _, url = start_console(system, f"http://127.0.0.1:{health['ingress']}/metrics",
                           f"http://127.0.0.1:{health['worker']}/metrics")
    read_id, dlq_id = await converse(system)

    viewer = await asyncio.to_thread(viewer_pass, url)
    assert viewer["letters"] == 1
    assert viewer["redrive_forms"] == 0
    assert not viewer["number_shown"]
    assert not viewer["conv_number_shown"]
    assert viewer["conv_links"] == 1
    async with client() as s:  # the viewer's own session and CSRF token
        assert await http_login(s, url, "bob", "viewer-pass-1") == 303
        csrf = await page_csrf(s, f"{url}/dead-letters")
        async with s.post(f"{url}/dead-letters/{dlq_id}/redrive",
                          data={"csrf": csrf, "reason": "x"}, allow_redirects=False) as r:
            assert r.status == 403

    seen = await asyncio.to_thread(operator_pass, url, dlq_id)
    assert seen["cookie"]["httpOnly"] is True
    assert seen["cookie"]["sameSite"] == "Strict"
    assert seen["charts"] == 3
    assert seen["as_of_later"] != seen["as_of"], seen["as_of"]
    overview = seen["overview_text"]
    for line in ("worker on wa.inbound 0", "worker on wa.outbound 0", "projector: events 0",
                 "projector: dead_letters 0", "graph closed", "503s: 0"):
        assert line in overview, overview
    assert seen["search"] == [WA_ID]
    t = seen["timeline"]
    hi = index_of(t, "inbound", "hi")
    to_menu = index_of(t, "transition", "→ menu/", hi)
    menu_reply = index_of(t, "reply", "status: read", hi)
    choice = index_of(t, "inbound", "☑", menu_reply)
    index_of(t, "transition", "menu/main →", choice)
    index_of(t, "reply", "Meta code 131026", choice)
    poison = index_of(t, "inbound", "POISON please", choice)
    dead = index_of(t, "dead_letter", dlq_id, poison)
    assert to_menu < menu_reply < choice < poison < dead
    assert "open" in t[dead][1]
    assert seen["flash"] == "redriven"
    assert "status: redriven" in seen["dead_text"], seen
    assert "by alice (fault fixed, try again)" in seen["dead_text"]
    assert seen["reset_flash"] == "reset"
    assert seen["analytics_charts"] >= 2
    # The funnels page shows this conversation: a workflow's funnel, one active user,
    # the replies in the delivery funnel (one read, one failed), their latency.
    analytics = seen["analytics_text"]
    assert "Funnel: " in analytics, analytics
    assert "users per day total 1," in analytics, analytics
    for stage, n in (("read", 1), ("failed", 1)):
        assert re.search(f">{stage}</text><rect [^>]*>(</rect>)?<text [^>]*>{n}</text>",
                         seen["delivery"]), seen["delivery"]
    assert seen["latency_rows"] >= 2
    assert "dlq_redrive" in seen["audit"]
    assert "reset_to_menu" in seen["audit"]
    assert "alice" in seen["audit"]

    ops = await system.read("wa.dlq.ops", min_count=2, timeout_s=20)
    decisions = [DlqDecision.from_bytes(r.value or b"") for r in ops]
    assert [(d.dlq_id, d.action, d.by, d.reason) for d in decisions] == \
        [(dlq_id, "redrive", "alice", "fault fixed, try again"),
         (dlq_id, "redriven", "alice", "")]  # the decision, then its mark once re-published
    resets = await system.wait_rows(
        "SELECT event_id, payload FROM wa_events WHERE wa_id = $1 "
        "AND event_id LIKE 'operator-reset:%'", 1, 60, WA_ID)
    payload = orjson.loads(resets[0]["payload"])
    assert (payload["by"], payload["operator_reason"]) == ("alice", "user asked to start over")
    reset_id = resets[0]["event_id"]
    # The engine handled it: the recovery completed with who and why, the menu was sent
    # in reply to it, and the conversation rests at the menu.
    done = await system.wait_rows(
        "SELECT details FROM wa_workflow_recovery WHERE recovery_id = $1 "
        "AND status = 'completed'", 1, 60, reset_id)
    assert done, "the reset event was not handled by the worker"
    assert orjson.loads(done[0]["details"])["reason"] == "operator alice: user asked to start over"
    assert await system.wait_rows(
        "SELECT 1 FROM wa_outbound_messages WHERE in_reply_to = $1", 1, 30, reset_id)
    state = await system.wait_rows("SELECT flow FROM chat_state WHERE wa_id = $1", 1, 10, WA_ID)
    assert state[0]["flow"] == "menu"
    assert read_id
