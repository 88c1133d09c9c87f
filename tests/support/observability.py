"""Reading what the services expose to operators: their JSON log lines, the metric names
of a ``/metrics`` page, and the metric names the dashboard and alert rules of ``deploy/``
use (plain helpers for the observability tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DASHBOARD = DEPLOY / "grafana" / "wastream.json"
RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "alerts_test.yml"

# Every metric the services export starts with one of these (ours, and prometheus_client's
# process and Python collectors), so a name in an expression is found by its prefix.
_METRIC = re.compile(r"\b((?:wastream|process|python)_[a-zA-Z0-9_]+)")
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum"),
             "summary": ("_count", "_sum"), "gauge": ("",), "info": ("_info",)}


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a service's log, parsed; a line that is not a JSON object fails."""
    out = []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise AssertionError(f"{path.name}:{n} is not JSON: {line!r}") from exc
        assert isinstance(obj, dict), f"{path.name}:{n}: {line!r}"
        out.append(obj)
    return out


def exported_names(page: str) -> set[str]:
    """The sample names a ``/metrics`` page exports, including those of families that have
    no sample yet (a labelled counter nothing incremented still declares its type)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(page):
        names.update(s.name for s in family.samples)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
    return names


def _exprs(node: Any) -> list[str]:
    """Every PromQL expression in a Grafana dashboard (the ``expr`` of each target)."""
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for v in node.values() for e in _exprs(v)]
    if isinstance(node, list):
        return [e for v in node for e in _exprs(v)]
    return []


def dashboard_exprs() -> list[str]:
    return _exprs(json.loads(DASHBOARD.read_text()))


def rule_exprs() -> list[str]:
    import yaml

    doc = yaml.safe_load(RULES.read_text())
    return [r["expr"] for g in doc["groups"] for r in g["rules"]]


def referenced_names(exprs: list[str]) -> set[str]:
    return {m for e in exprs for m in _METRIC.findall(e)}
