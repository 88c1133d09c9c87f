"""``compose.yaml``: valid by the Compose specification's JSON Schema (vendored in
tests/data/compose, see its README), complete (the admin API with auto-redrive,
healthchecks and restart policies, a Kafka volume, health ports, a monitoring profile
provisioned from deploy/), and every variable it sets for a wastream service is one the
settings know."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from wastream.config.components import component_groups
from wastream.config.groups import CORE_GROUPS

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "tests" / "data" / "compose" / "compose-spec.json"
ONE_SHOT = {"setup"}  # runs migrations and topics, then exits: no healthcheck


def _compose() -> dict[str, Any]:
    doc = yaml.safe_load((REPO / "compose.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


def _ours(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the wastream image."""
    return {n: s for n, s in doc["services"].items() if s.get("image") == "wastream:dev"}


def test_compose_is_valid_by_the_compose_spec_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(_compose()),
                    key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_check_refuses_a_broken_compose_file() -> None:
    """The vendored schema does bite: a misspelled key and a bad restart value fail."""
    doc = _compose()
    doc["services"]["worker"]["helthcheck"] = {}
    doc["volumes"]["kafka-data"] = "not a mapping"
    errors = list(jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).iter_errors(doc))
    assert len(errors) >= 2


def test_every_variable_set_for_a_wastream_service_is_a_setting() -> None:
    known = {var for g in [*CORE_GROUPS, *component_groups()] for var, _, _ in g.env_fields()}
    ours = _ours(_compose())
    assert set(ours) >= {"setup", "ingress", "worker", "projector", "dlq"}
    for name, svc in ours.items():
        env = svc.get("environment") or {}
        assert isinstance(env, dict), name
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"


def test_dlq_serve_runs_with_auto_redrive() -> None:
    dlq = _compose()["services"]["dlq"]
    assert dlq["command"][1:3] == ["dlq", "serve"]
    assert dlq["environment"]["WASTREAM_DLQ_AUTO_REDRIVE_S"]


def test_every_service_has_a_restart_policy_and_a_healthcheck() -> None:
    for name, svc in _compose()["services"].items():
        assert svc.get("restart") in {"unless-stopped", "always", "on-failure"}, name
        if name not in ONE_SHOT:
            assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_wastream_services_serve_health_on_their_port_and_check_it() -> None:
    for name, svc in _ours(_compose()).items():
        if name in ONE_SHOT:
            continue
        port = svc["environment"]["WASTREAM_HEALTH_PORT"]
        assert svc["environment"]["WASTREAM_HEALTH_HOST"] == "0.0.0.0"  # noqa: S104
        assert f":{port}/healthz" in " ".join(svc["healthcheck"]["test"]), name


def test_kafka_keeps_its_log_on_a_volume() -> None:
    doc = _compose()
    kafka = doc["services"]["kafka"]
    data_dir = kafka["environment"]["KAFKA_LOG_DIRS"]
    assert f"kafka-data:{data_dir}" in kafka["volumes"]
    assert "kafka-data" in doc["volumes"]


def test_the_monitoring_profile_is_provisioned_from_deploy() -> None:
    services = _compose()["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
    for svc in (services["prometheus"], services["grafana"]):
        for volume in svc["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).is_dir(), source
    assert (REPO / "deploy/prometheus/prometheus.yml").is_file()
    assert (REPO / "deploy/grafana/wastream.json").is_file()
    scraped = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    targets = {t for c in scraped["scrape_configs"] for s in c["static_configs"]
               for t in s["targets"]}
    ours = _ours(_compose())
    assert targets == {f"{n}:{s['environment']['WASTREAM_HEALTH_PORT']}"
                       for n, s in ours.items() if n not in ONE_SHOT}
