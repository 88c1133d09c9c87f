"""How every Kafka client connects: one function from the typed settings.

Every aiokafka client (producer, consumer, admin) is built with
``AIOKafkaX(**client_args(settings.kafka), ...)`` and the Faust app with
``broker_credentials=faust_credentials(settings.kafka)``, so a managed cluster's TLS and
SASL settings (``KAFKA_SECURITY_PROTOCOL`` …) reach every connection, or none.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from wastream.config.groups import KafkaSettings

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context of SSL and SASL_SSL (None for the plaintext protocols): the
    brokers' CA (``KAFKA_SSL_CAFILE``, else the system's), hostname checked, and the
    client certificate when one is set."""
    if not kafka.security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(
        purpose=ssl.Purpose.SERVER_AUTH,
        cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile is not None else None)
    if kafka.ssl_certfile is not None:
        keyfile = str(kafka.ssl_keyfile) if kafka.ssl_keyfile is not None else None
        context.load_cert_chain(str(kafka.ssl_certfile), keyfile)
    return context


def client_args(kafka: KafkaSettings) -> dict[str, Any]:
    """The keyword arguments that connect an aiokafka client: the bootstrap servers, the
    security protocol and, as it needs them, the SASL credentials and the TLS context."""
    args: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "security_protocol": kafka.security_protocol,
    }
    context = ssl_context(kafka)
    if context is not None:
        args["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL_"):
        password = kafka.sasl_password
        args.update(
            sasl_mechanism=kafka.sasl_mechanism,
            sasl_plain_username=kafka.sasl_username,
            sasl_plain_password=None if password is None else password.get_secret_value(),
        )
    return args


def faust_credentials(kafka: KafkaSettings) -> CredentialsT | None:
    """``broker_credentials`` for ``faust.App``: Faust turns them into the same aiokafka
    arguments (faust.transport.drivers.aiokafka.credentials_to_aiokafka_auth) for its
    consumer, producer and admin client. None: plaintext."""
    from faust.auth import SASLCredentials, SSLCredentials

    context = ssl_context(kafka)
    if kafka.security_protocol.startswith("SASL_"):
        password = kafka.sasl_password
        # Faust picks SASL_SSL when it is given a context, SASL_PLAINTEXT otherwise.
        return SASLCredentials(
            username=kafka.sasl_username,
            password=None if password is None else password.get_secret_value(),
            ssl_context=context, mechanism=kafka.sasl_mechanism)
    if context is not None:
        return SSLCredentials(context)
    return None
