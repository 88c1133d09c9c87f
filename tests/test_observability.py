"""What an operator sees of a running system: every service (ingress, worker with its
sender, projector, ``dlq serve``) logs JSON lines naming the correlation id and event id
of the event they are about, with no phone number or message text at INFO; each serves
``/healthz``, ``/readyz`` and ``/metrics`` on its own ``WASTREAM_HEALTH_PORT``; and every
metric the Grafana dashboard and the alert rules in ``deploy/`` use is one of them.

One event drives it all: a text the fault injector fails (transiently, every time), so the
worker retries it through the tiers and dead-letters it, ``dlq serve`` redrives it
automatically, and the projector refuses to store it (a NUL character, which PostgreSQL's
jsonb rejects) and records the refusal: a line about the event in each service.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp
import orjson

from tests.support import observability as obs
from tests.support.system import System, free_port
from tests.support.webhooks import text_message_body

USER = "250788555017"


async def _get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


async def _metrics_once(port: int, line: str, timeout_s: float = 60.0) -> str:
    """``/metrics`` on ``port`` once it has a line starting with ``line``."""
    page = ""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            _, page = await _get(port, "/metrics")
        except aiohttp.ClientError:
            page = ""
        if any(x.startswith(line) for x in page.splitlines()):
            return page
        await asyncio.sleep(0.5)
    raise AssertionError(f"no {line!r} on :{port}/metrics:\n{page[-3000:]}")


def _about(lines: list[dict[str, Any]], event_id: str) -> list[dict[str, Any]]:
    return [x for x in lines if x.get("event_id") == event_id]


async def test_each_service_logs_json_with_ids_and_serves_health_and_metrics(
        system: System) -> None:
    secret_text = f"POISON {uuid.uuid4().hex} \u0000"
    wamid = f"wamid.OBS{uuid.uuid4().hex}"
    corr = f"client-{uuid.uuid4().hex}"
    ports = {name: free_port() for name in ("ingress", "worker", "projector", "dlq")}
    system.env_overrides.update({
        "WASTREAM_FAULTS": orjson.dumps([{"match": "POISON", "kind": "transient"}]).decode(),
        "WASTREAM_DLQ_AUTO_REDRIVE_S": "1", "WASTREAM_DLQ_AUTO_INTERVAL_S": "1",
    })

    def start(name: str, *args: str, level: str = "INFO") -> Any:
        system.env_overrides.update({"WASTREAM_HEALTH_PORT": str(ports[name]),
                                     "WASTREAM_LOG_LEVEL": level})
        return system.start_ingress() if name == "ingress" else system.start(name, *args)

    # The ingress at DEBUG: its one line about a body (events, types, ids) is DEBUG only.
    ingress = start("ingress", level="DEBUG")
    worker = start("worker", "worker")
    projector = start("projector", "project")
    dlq = start("dlq", "dlq", "serve", "--port", str(free_port()))

    # The ingress gives each body its own correlation id (a client's X-Request-Id is
    # only kept beside it) and names it in its answer.
    status, answer = await system.post_webhook(
        text_message_body(USER, secret_text, wamid=wamid), headers={"X-Request-Id": corr})
    assert status == 200
    corr = answer["correlation_id"]

    # The worker retries (1s, 2s, 3s tiers) and dead-letters; dlq serve counts the letter
    # and redrives it; the projector refuses the record and counts the refusal.
    await _metrics_once(ports["worker"], "wastream_dead_letters_total{")
    await _metrics_once(ports["dlq"], "wastream_dlq_auto_redrives_total{")
    # its census of the letters runs on its own period (WASTREAM_DLQ_AUTO_INTERVAL_S)
    await _metrics_once(ports["dlq"], "wastream_dlq_letters{")
    await _metrics_once(ports["projector"], 'wastream_projector_errors_total{projection="events"}')
    # The worker's lag probe measures every 10 s, once its groups have committed.
    await _metrics_once(ports["worker"], f'wastream_consumer_lag{{group="{system.prefix}wastream"')

    # -- health and metrics ------------------------------------------------------------
    pages = {}
    for name, port in ports.items():
        assert (await _get(port, "/healthz"))[0] == 200, name
        ready = False
        for _ in range(60):
            code, body = await _get(port, "/readyz")
            if code == 200:
                ready = True
                break
            await asyncio.sleep(0.5)
        assert ready, f"{name} /readyz: {code} {body}"
        pages[name] = (await _get(port, "/metrics"))[1]
        assert "process_resident_memory_bytes" in pages[name], name
    worker_page, proj_page = pages["worker"], pages["projector"]
    assert 'wastream_sender_requests_total{code="none",outcome="dry_run"}' in worker_page
    assert "wastream_sender_request_seconds_bucket" in worker_page
    assert "# TYPE wastream_hole_fills_total counter" in worker_page
    assert 'wastream_retry_tier_depth{tier="' in worker_page
    assert f'wastream_consumer_lag{{group="{system.prefix}wastream"' in worker_page
    assert 'wastream_breaker_state{breaker="graph"}' in worker_page
    assert ('wastream_dead_letters_total{error_class="streams.failure.errors.InjectedTransient",'
            'router="inbound"}') in worker_page
    rows = [x for x in proj_page.splitlines() if x.startswith("wastream_projector_rows_total{")]
    assert any(float(x.rsplit(" ", 1)[1]) > 0 for x in rows), rows
    assert 'wastream_projector_lag{projection="events"} ' in proj_page
    assert f'wastream_consumer_lag{{group="{system.prefix}projector"' in proj_page
    assert "wastream_dlq_letters{" in pages["dlq"]
    assert "wastream_ingress_requests_total" in pages["ingress"]
    # The webhook port no longer serves them.
    assert (await _get(system.ingress_port or 0, "/metrics"))[0] == 404

    # -- every metric of the dashboard and the alert rules is exported -------------------
    exported = set().union(*(obs.exported_names(p) for p in pages.values()))
    used = obs.referenced_names(obs.dashboard_exprs() + obs.rule_exprs())
    assert used, "no metric found in deploy/"
    assert used <= exported, f"used in deploy/ but exported by no service: {used - exported}"

    # -- logs ----------------------------------------------------------------------------
    for svc in (ingress, worker, projector, dlq):
        svc.stop()
    logs = {svc.name: obs.json_lines(svc.log) for svc in (ingress, worker, projector, dlq)}
    for name, lines in logs.items():
        assert lines, name
        assert all({"ts", "level", "logger", "msg", "correlation_id"} <= x.keys()
                   for x in lines), name
        # No phone number or message text at INFO and above.
        loud = [x for x in lines if x["level"] != "DEBUG"]
        leaks = [x for x in loud if USER in orjson.dumps(x).decode()
                 or "POISON" in orjson.dumps(x).decode()]
        assert not leaks, f"{name} logs PII at INFO: {leaks[:3]}"

    accepted = [x for x in logs["ingress"] if x["msg"] == "webhook accepted"]
    assert [x["correlation_id"] for x in accepted] == [corr]
    assert accepted[0]["event_ids"] == [wamid]
    assert accepted[0]["event_id"] == wamid
    for name in ("worker", "projector", "dlq"):
        about = _about(logs[name], wamid)
        assert about, f"{name}: no line names event {wamid}"
        assert {x["correlation_id"] for x in about} == {corr}, (name, about[:3])
    assert any("dead-lettering" in x["msg"] for x in _about(logs["worker"], wamid))
    assert any(x["msg"].startswith("projection events skips")
               for x in _about(logs["projector"], wamid))
    assert any(x["msg"].startswith("auto-redrive") for x in _about(logs["dlq"], wamid))
    # The sender (in the worker) names the correlation id of the reply it sends: here the
    # apology of the conversation's recovery from the dead letter.
    sent = [x for x in logs["worker"] if x["msg"].startswith("dry-run: would POST")]
    assert sent
    assert {x["correlation_id"] for x in sent} == {corr}, sent[:3]
    assert all(x.get("event_id") for x in sent), sent[:3]
