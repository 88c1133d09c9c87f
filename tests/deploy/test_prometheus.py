"""The alert rules and the dashboard of ``deploy/``: ``promtool check rules`` and
``promtool test rules`` pass (promtool is Debian's ``prometheus`` package, which the
Makefile installs; without it these tests fail, they never skip), every alert the issue
asks for exists and has a unit test, and the dashboard has a panel for every metric.

That every metric they name is exported by a service is checked against the running
services in ``tests/test_observability.py``."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from tests.support import observability as obs

ALERTS = {"WastreamDeadLettersGrowing", "WastreamBreakerOpen", "WastreamProjectorLag",
          "WastreamIngress503Rate", "WastreamConsumerLag", "WastreamHoleFills"}
# One metric per thing the dashboard must show (issue 14, item 4).
PANELS = {
    "consumer lag per group and partition": "wastream_consumer_lag",
    "projector rows": "wastream_projector_rows_total",
    "projector errors": "wastream_projector_errors_total",
    "projector lag": "wastream_projector_lag",
    "sender outcomes by Meta error code": "wastream_sender_requests_total",
    "sender latency": "wastream_sender_request_seconds_bucket",
    "hole-guard fills": "wastream_hole_fills_total",
    "retry-tier depth": "wastream_retry_tier_depth",
    "dead letters by class": "wastream_dead_letters_total",
    "breaker states": "wastream_breaker_state",
    "process CPU": "process_cpu_seconds_total",
    "process memory": "process_resident_memory_bytes",
    "ingress status": "wastream_ingress_requests_total",
}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    assert exe, ("promtool not found: install Debian's `prometheus` package "
                 "(`make test` does it)")
    return subprocess.run([exe, *args], capture_output=True, text=True, check=False,
                          cwd=obs.RULES.parent, timeout=60)


def test_promtool_checks_the_rules() -> None:
    res = _promtool("check", "rules", obs.RULES.name)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in res.stdout


def test_promtool_unit_tests_pass() -> None:
    res = _promtool("test", "rules", obs.RULE_TESTS.name)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout + res.stderr


def test_promtool_checks_the_compose_prometheus_config() -> None:
    res = _promtool("check", "config", "prometheus.yml")
    assert res.returncode == 0, res.stdout + res.stderr


def test_every_alert_exists_and_has_a_unit_test_that_expects_it_firing() -> None:
    rules = yaml.safe_load(obs.RULES.read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert names == ALERTS
    tests = yaml.safe_load(obs.RULE_TESTS.read_text())["tests"]
    firing = {a["alertname"] for t in tests for a in t.get("alert_rule_test", [])
              if a.get("exp_alerts")}
    quiet = {a["alertname"] for t in tests for a in t.get("alert_rule_test", [])
             if not a.get("exp_alerts")}
    assert firing == ALERTS, f"alerts no unit test expects firing: {ALERTS - firing}"
    assert quiet == ALERTS, f"alerts no unit test expects quiet: {ALERTS - quiet}"


@pytest.mark.parametrize("what", sorted(PANELS))
def test_the_dashboard_has_a_panel_for(what: str) -> None:
    dash = json.loads(obs.DASHBOARD.read_text())
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    assert all(p.get("targets") for p in panels)
    showing = [p["title"] for p in panels
               if any(PANELS[what] in obs.referenced_names([t["expr"]]) for t in p["targets"])]
    assert showing, f"no panel shows {PANELS[what]}"


def test_every_dashboard_query_uses_the_datasource_variable() -> None:
    dash = json.loads(obs.DASHBOARD.read_text())
    for p in dash["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
