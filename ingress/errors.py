"""Errors of the ingress: each carries its own classification and HTTP answer."""

from __future__ import annotations


class IngressError(Exception):
    """Root of the ingress's errors. ``transient``: Meta should retry (5xx)."""

    transient = False
    status = 500
    code = "internal"


class ConfigMissing(IngressError):
    """The ingress cannot start as configured (no app secret without --insecure-dev)."""


class ProduceError(IngressError):
    """Kafka did not acknowledge every record of the body: answer 503, Meta retries."""

    transient = True
    status = 503
    code = "broker_unavailable"


class BrokerNotConnected(ProduceError):
    """The producer has not (yet) reached the broker."""


class ProduceTimeout(ProduceError):
    """Kafka did not acknowledge within the configured deadline."""

    code = "produce_timeout"
