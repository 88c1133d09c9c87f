"""The console's pure parts: passwords, the login limit, timeline order, bubbles, SVG
escaping, the metrics parser and the dead-letter filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wastream.console import auth, charts, health, reads, timeline
from wastream.console.app import masked
from wastream.console.timeline import Item

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_scrypt_passwords_verify_and_differ_by_salt() -> None:
    a, b = auth.hash_password("correct horse", n=2**10), auth.hash_password("correct horse",
                                                                             n=2**10)
    assert a != b  # a salt each
    assert a.startswith("scrypt$1024$8$1$")
    assert auth.check_password("correct horse", a)
    assert not auth.check_password("correct horsf", a)
    assert not auth.check_password("correct horse", "md5$x")
    assert not auth.check_password("correct horse", "garbage")


def test_login_limiter_blocks_after_five_failures_per_key() -> None:
    lim = auth.LoginLimiter(attempts=5, window_s=300)
    for _ in range(4):
        lim.failed("ip:1", "name:a")
    assert not lim.blocked("ip:1", "name:a")
    lim.failed("ip:1", "name:a")
    assert lim.blocked("ip:1")
    assert lim.blocked("ip:2", "name:a")  # the same name from elsewhere
    assert not lim.blocked("ip:2", "name:b")
    expired = auth.LoginLimiter(attempts=1, window_s=0.0)
    expired.failed("k")
    assert not expired.blocked("k")


def test_timeline_puts_what_an_event_caused_right_after_it() -> None:
    # The transition's and reply's clocks say they came before the event (a skewed
    # worker clock); they still follow it. The dead letter keeps its own, later, time.
    ev1 = Item("inbound", T0, event_id="e1")
    ev2 = Item("inbound", T0 + timedelta(seconds=10), event_id="e2")
    tr1 = Item("transition", T0 - timedelta(seconds=1), parent="e1", seq=1)
    rep1 = Item("reply", T0 - timedelta(seconds=2), parent="e1")
    dead = Item("dead_letter", T0 + timedelta(seconds=30), parent="e1")
    rec = Item("recovery", T0 + timedelta(seconds=11), parent="e2")
    orphan = Item("domain", T0 + timedelta(seconds=5), parent="not-on-page")
    got = timeline.order([dead, rec, orphan, rep1, ev2, tr1, ev1])
    assert got == [ev1, tr1, rep1, orphan, ev2, rec, dead]


def test_bubbles_describe_each_kind_of_message() -> None:
    assert timeline.describe("message.text", {"type": "text", "text": {"body": "hi"}}) == \
        {"shape": "text", "text": "hi"}
    choice = timeline.describe("message.interactive.list_reply", {
        "type": "interactive", "interactive": {"list_reply": {"id": "menu:jobs",
                                                              "title": "Jobs"}}})
    assert choice == {"shape": "choice", "text": "Jobs", "choice": "menu:jobs"}
    loc = timeline.describe("message.location", {"type": "location", "location": {
        "latitude": -1.95, "longitude": 30.06}})
    assert (loc["shape"], loc["lat"], loc["lon"]) == ("location", -1.95, 30.06)
    img = timeline.describe("message.image", {"type": "image", "image": {"id": "m1"}})
    assert (img["shape"], img["media_id"]) == ("media", "m1")
    reset = timeline.describe("wastream.recovery", {"by": "alice", "reason": "r"})
    assert reset["text"] == "reset to the menu by alice"


def test_svg_escapes_labels() -> None:
    svg = str(charts.bars([("<script>alert(1)</script>", 3.0)]))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    col = str(charts.columns([0, 2, 1], label="a<b"))
    assert col.count("<rect") == 1 + 3  # the background, and a bar per value
    assert col.count('height="0.0"') == 1  # the zero is a bar of no height
    assert "a&lt;b" in col


def test_metrics_parser_reads_breakers_and_503s() -> None:
    text = ('# TYPE wastream_breaker_state gauge\n'
            'wastream_breaker_state{breaker="graph"} 2.0\n'
            '# TYPE wastream_ingress_requests counter\n'
            'wastream_ingress_requests_total{route="/webhook",status="200"} 10.0\n'
            'wastream_ingress_requests_total{route="/webhook",status="503"} 3.0\n'
            # readiness probes before the producer connects: not refused webhooks
            'wastream_ingress_requests_total{route="/readyz",status="503"} 2.0\n')
    snap = health.Snapshot()
    health.Health._breakers(snap, text)
    assert snap.breakers == {"graph": "open"}
    h = health.Health.__new__(health.Health)
    h._last_503 = None
    h._ingress(snap, text)
    assert (snap.ingress_requests, snap.ingress_503) == (13, 3)


def test_dead_letter_filters_bind_every_value() -> None:
    where, args = reads.dlq_filters({"type": "message.text", "error_class": "Transient",
                                     "status": "redriven", "min_age_s": "60"})
    assert "$1" in where
    assert "$4" in where
    assert args[0] == "message.text"
    assert args[1] == "%Transient%"
    assert args[3] == "redrive"  # the projection's word for it
    assert "Transient" not in where  # values are bound, never spliced into the SQL


def test_viewers_never_read_a_number_in_a_text() -> None:
    viewer = auth.Operator("bob", "viewer", "t")
    operator = auth.Operator("alice", "operator", "t")
    text = "Call the farmer on 250788123456 or +250 788 123 457 for 3 bags"
    assert masked(text, viewer) == "Call the farmer on ••• or ••• for 3 bags"
    assert masked(text, operator) == text
    assert masked(None, viewer) == ""


def test_the_timeline_template_draws_locations_and_links_media_for_operators() -> None:
    from wastream.console.app import _templates

    items = [Item("inbound", T0, "c1", {"type": "message.location", "offset": "0:1",
                                        **timeline.describe("message.location", {
                                            "type": "location", "location": {
                                                "latitude": -1.9441, "longitude": 30.0619}})},
                  event_id="e1"),
             Item("inbound", T0, "c2", {"type": "message.image", "offset": "0:2",
                                        "store_key": "ab" * 32, "media_status": "stored",
                                        **timeline.describe("message.image", {
                                            "type": "image", "image": {"id": "m1"}})},
                  event_id="e2")]
    page = _templates().get_template("conversation.html")
    for op, link in ((auth.Operator("alice", "operator", "t"), True),
                     (auth.Operator("bob", "viewer", "t"), False)):
        html = page.render(op=op, path="/", ref="h", who="w", items=items, state=None,
                           flash=None)
        assert '<svg class="tile"' in html
        assert "-1.94410, 30.06190" in html
        assert (f'href="/media/{"ab" * 32}"' in html) is link
        assert ('id="reset"' in html) is link  # the reset form is an operator's


def test_viewers_never_read_a_number_in_an_operators_reason_or_an_audit_target() -> None:
    """Operators type reasons ("250788123456 asked to stop"), and a bulk action's target
    is its filters (a wa_id among them): each page that shows one masks it for a viewer."""
    from wastream.console.app import _templates

    number = "250788123456"
    why = f"user {number} asked to stop"
    letter = {"dlq_id": "t.wa.inbound:0:1", "error_class": "E", "error_kind": "permanent",
              "error_message": "", "retries": 0, "status": "discard", "decided_by": "alice",
              "reason": why, "decided_at": T0}
    row = {"message_id": "t.wa.inbound:0:1", "ref": "h", "who": "w", "type": "message.text",
           "error_class": "E", "error_kind": "permanent", "error_message": "",
           "retry_count": 0, "status": "discard", "failed_at": T0, "decided_by": "alice",
           "decision_reason": why}
    audit = {"at": T0, "operator": "alice", "action": "dlq_bulk_discard",
             "target": str({"wa_id": number, "status": "open"}), "reason": why, "result": {}}
    env = _templates()
    for op, shown in ((auth.Operator("alice", "operator", "t"), True),
                      (auth.Operator("bob", "viewer", "t"), False)):
        pages = {
            "conversation": env.get_template("conversation.html").render(
                op=op, path="/", ref="h", who="w", state=None, flash=None,
                items=[Item("dead_letter", T0, "c1", letter)]),
            "dead letters": env.get_template("dead_letters.html").render(
                op=op, path="/", rows=[row], q={}, flash=None, bulk_max=200),
            "audit": env.get_template("audit.html").render(op=op, path="/", rows=[audit]),
        }
        for name, html in pages.items():
            assert (number in html) is shown, (name, op.role)


def test_what_an_event_caused_carries_its_correlation_id() -> None:
    """Transitions and recovery records keep no correlation id of their own: the page
    shows their cause's, so that every line of the timeline has one (a domain event
    without one too)."""
    from wastream.console.app import _templates

    ev = Item("inbound", T0, "corr-of-hi", {"type": "message.text", "offset": "0:1",
                                            "shape": "text", "text": "hi"}, event_id="e1")
    tr = Item("transition", T0, "", {"before": "∅/∅", "after": "menu/main", "seq": 1},
              parent="e1", seq=1)
    rec = Item("recovery", T0, "", {"recovery_id": "e1", "action": "reset_to_menu",
                                    "status": "completed", "details": {}}, parent="e1")
    dom = Item("domain", T0, "", {"name": "job.posted", "data": {}}, parent="e1")
    orphan = Item("transition", T0 + timedelta(seconds=5), "",
                  {"before": "a/b", "after": "c/d", "seq": 2},
                  parent="not-on-page", seq=2)
    items = timeline.order([orphan, rec, dom, tr, ev])
    assert [i.correlation_id for i in items] == ["corr-of-hi"] * 4 + [""]
    html = _templates().get_template("conversation.html").render(
        op=auth.Operator("alice", "operator", "t"), path="/", ref="h", who="w", state=None,
        flash=None, items=items)
    rows = html.split('data-kind="')[1:]
    assert [r.split('"')[0] for r in rows] == ["inbound", "transition", "domain", "recovery",
                                              "transition"]
    assert ["corr corr-of-hi" in r for r in rows] == [True, True, True, True, False]
    assert "★ job.posted" in rows[2]


def test_a_retry_stands_between_its_event_and_the_events_reply_or_dead_letter() -> None:
    """A retry of an inbound record follows its event (in attempt order, before what the
    successful attempt caused), whatever its own later time; a retry of a redriven copy
    (another offset) or of a reply keeps its own time. Its line shows time, attempt,
    tier, error class and correlation id; a viewer reads no number in its error."""
    from wastream.console.app import _templates

    ev = Item("inbound", T0, "corr-1", {"type": "message.text", "offset": "0:1",
                                        "shape": "text", "text": "hi"}, event_id="e1")
    ev2 = Item("inbound", T0 + timedelta(seconds=5), "corr-2",
               {"type": "message.text", "offset": "0:2", "shape": "text", "text": "yo"},
               event_id="e2")

    def retry(attempt: int, secs: int, offset: str | None, parent: str = "e1") -> Item:
        return Item("retry", T0 + timedelta(seconds=secs), "corr-1",
                    {"attempt": attempt, "tier": "wa.retry.1s", "delay_s": 1,
                     "error_class": "streams.failure.errors.InjectedTransient",
                     "error": "graph said no to +250780000001", "offset": offset},
                    parent=parent, seq=attempt)
    r1, r2 = retry(1, 60, "0:1"), retry(2, 120, "0:1")
    tr = Item("transition", T0 + timedelta(seconds=121), "",
              {"before": "∅/∅", "after": "menu/main", "seq": 1}, parent="e1", seq=1)
    rep = Item("reply", T0 + timedelta(seconds=121), "corr-1",
               {"outbound_id": "e1:1", "text": "hello", "options": [], "status": "sent",
                "error_code": None, "flow": "menu", "statuses": []}, parent="e1")
    dead = Item("dead_letter", T0 + timedelta(seconds=300), "corr-1", parent="e1")
    again = retry(1, 400, "0:9")  # the redriven copy of e1, at another offset
    reply_retry = retry(1, 200, None)
    got = timeline.order([dead, again, reply_retry, rep, tr, r2, ev2, r1, ev])
    assert got == [ev, r1, r2, tr, rep, ev2, reply_retry, dead, again]

    for role, shown in [("operator", True), ("viewer", False)]:
        html = _templates().get_template("conversation.html").render(
            op=auth.Operator("alice", role, "t"), path="/", ref="h", who="w", state=None,
            flash=None, items=[ev, r1])
        rows = html.split('data-kind="')[1:]
        assert [r.split('"')[0] for r in rows] == ["inbound", "retry"]
        line = rows[1].split("</div></div>")[0]
        for part in ("attempt 1", "wa.retry.1s", "InjectedTransient", "corr corr-1",
                     "2026-01-01 00:01:00"):
            assert part in line, (part, line)
        assert ("250780000001" in line) is shown, role
