"""The secure dev broker (``wastream dev up --secure``): a SASL_SSL listener, SCRAM-SHA-512
users and a CA and certificates made on the spot with openssl.

Everything lives in the node's ``tls/`` folder: ``ca.pem`` (what clients trust), the
broker's PKCS#12 keystore, and ``users.json`` (the generated passwords). The client
settings of :func:`client_env` are what every wastream service needs to connect.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MECHANISM = "SCRAM-SHA-512"
CLIENT_USER = "wastream"
BROKER_USER = "broker"  # the broker's own user on its inter-broker listener


class TlsError(RuntimeError):
    """openssl is missing or failed; the message says what it printed."""


@dataclass(frozen=True)
class SecureFiles:
    """The secure node's material, under ``tls_dir``."""

    tls_dir: Path

    @property
    def ca(self) -> Path:
        return self.tls_dir / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.tls_dir / "broker.p12"

    @property
    def users_file(self) -> Path:
        return self.tls_dir / "users.json"

    def exists(self) -> bool:
        return self.ca.exists() and self.keystore.exists() and self.users_file.exists()

    def users(self) -> dict[str, str]:
        """user -> password (``keystore`` is the keystore's password)."""
        got: dict[str, str] = json.loads(self.users_file.read_text())
        return got

    def make(self, host: str) -> None:
        """A new CA, a broker certificate for ``host`` (and localhost) signed by it, and
        new passwords; idempotent (kept when present)."""
        if self.exists():
            return
        if shutil.which("openssl") is None:
            raise TlsError("openssl is not on PATH: install it (apt-get install openssl)")
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        d = self.tls_dir
        users = {CLIENT_USER: secrets.token_hex(16), BROKER_USER: secrets.token_hex(16),
                 "keystore": secrets.token_hex(16)}
        san = f"subjectAltName=IP:{host},DNS:localhost" if _is_ip(host) else \
            f"subjectAltName=DNS:{host},DNS:localhost"
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                 "-subj", "/CN=wastream dev CA", "-keyout", str(d / "ca.key"),
                 "-out", str(self.ca))
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}",
                 "-keyout", str(d / "broker.key"), "-out", str(d / "broker.csr"))
        (d / "broker.ext").write_text(san + "\n")
        _openssl("x509", "-req", "-in", str(d / "broker.csr"), "-CA", str(self.ca),
                 "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "30",
                 "-extfile", str(d / "broker.ext"), "-out", str(d / "broker.pem"))
        _openssl("pkcs12", "-export", "-in", str(d / "broker.pem"),
                 "-inkey", str(d / "broker.key"), "-certfile", str(self.ca),
                 "-name", "broker", "-out", str(self.keystore),
                 "-passout", f"pass:{users['keystore']}")
        self.users_file.write_text(json.dumps(users))
        for f in (d / "ca.key", d / "broker.key", self.users_file, self.keystore):
            f.chmod(0o600)

    def broker_properties(self, listener: str) -> list[str]:
        """The server.properties lines of a SASL_SSL listener named ``listener``."""
        users = self.users()
        jaas = ("org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{BROKER_USER}" password="{users[BROKER_USER]}";')
        return [
            f"sasl.enabled.mechanisms={MECHANISM}",
            f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
            f"listener.name.{listener.lower()}.{MECHANISM.lower()}.sasl.jaas.config={jaas}",
            "ssl.keystore.type=PKCS12",
            f"ssl.keystore.location={self.keystore}",
            f"ssl.keystore.password={users['keystore']}",
            f"ssl.key.password={users['keystore']}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={self.ca}",
            "ssl.endpoint.identification.algorithm=https",
        ]

    def scram_args(self) -> list[str]:
        """``kafka-storage format`` arguments that create both users (KRaft keeps SCRAM
        credentials in the metadata log, so they exist before the broker starts)."""
        users = self.users()
        return [arg for user in (CLIENT_USER, BROKER_USER) for arg in
                ("--add-scram", f"{MECHANISM}=[name={user},password={users[user]}]")]

    def client_env(self) -> dict[str, str]:
        """The settings of a wastream client of this broker."""
        return {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": MECHANISM,
            "KAFKA_SASL_USERNAME": CLIENT_USER,
            "KAFKA_SASL_PASSWORD": self.users()[CLIENT_USER],
            "KAFKA_SSL_CAFILE": str(self.ca),
        }


def _is_ip(host: str) -> bool:
    return all(p.isdigit() for p in host.split(".")) and host.count(".") == 3


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {result.stderr.strip()[-2000:]}")
