"""One function connects every Kafka client: the typed settings become aiokafka's
arguments and Faust's broker_credentials, and every client construction uses them."""

from __future__ import annotations

import ast
import ssl
from pathlib import Path

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from wastream.config import ConfigError, KafkaSettings
from wastream.config.kafka import client_args, faust_credentials

REPO = Path(__file__).resolve().parents[2]
CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "AIOKafkaClient"}
CA = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")


def test_plaintext_by_default() -> None:
    kafka = KafkaSettings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})
    assert client_args(kafka) == {"bootstrap_servers": "k:9092",
                                  "security_protocol": "PLAINTEXT"}
    assert faust_credentials(kafka) is None


def test_sasl_ssl_gives_credentials_and_a_verifying_context() -> None:
    kafka = KafkaSettings.from_env({
        "KAFKA_BOOTSTRAP_SERVERS": "k:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256", "KAFKA_SASL_USERNAME": "svc",
        "KAFKA_SASL_PASSWORD": "pw", "KAFKA_SSL_CAFILE": str(CA)})
    args = client_args(kafka)
    assert args["security_protocol"] == "SASL_SSL"
    assert (args["sasl_mechanism"], args["sasl_plain_username"],
            args["sasl_plain_password"]) == ("SCRAM-SHA-256", "svc", "pw")
    context = args["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    # Faust turns its credentials into the same aiokafka arguments.
    creds = faust_credentials(kafka)
    assert isinstance(creds, SASLCredentials)
    faust_args = credentials_to_aiokafka_auth(creds)
    for key in ("security_protocol", "sasl_mechanism", "sasl_plain_username",
                "sasl_plain_password"):
        assert faust_args[key] == args[key], key


def test_ssl_without_sasl() -> None:
    kafka = KafkaSettings.from_env({"KAFKA_SECURITY_PROTOCOL": "SSL"})
    args = client_args(kafka)
    assert args["security_protocol"] == "SSL"
    assert isinstance(args["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in args
    assert isinstance(faust_credentials(kafka), SSLCredentials)


@pytest.mark.parametrize("env", [
    {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "svc"},
    {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_PASSWORD": "pw"},
    {"KAFKA_SSL_CERTFILE": "/c.pem"},
    {"KAFKA_SECURITY_PROTOCOL": "TLS"},
])
def test_incomplete_or_unknown_security_is_a_configuration_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        KafkaSettings.from_env(env)


def _client_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for package in ("wastream", "ingress", "streams", "projections", "standins", "bench"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in CLIENTS):
                    calls.append((f"{path.relative_to(REPO)}:{node.lineno}", node))
    return calls


def test_every_kafka_client_is_built_from_the_connection_settings() -> None:
    calls = _client_calls()
    assert len(calls) >= 15  # the issue counted ~15: the scan sees them
    for where, call in calls:
        unpacked = [ast.unparse(k.value) for k in call.keywords if k.arg is None]
        named = {k.arg for k in call.keywords}
        assert any("client_args" in u or "connection" in u for u in unpacked), (
            f"{where}: build the client with **client_args(settings.kafka)")
        assert "bootstrap_servers" not in named, f"{where}: bootstrap_servers set beside it"
