"""AWS Signature Version 4 for the S3 REST requests of :mod:`streams.media.s3`.

The steps of https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
(and, for S3, https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html):
a canonical request (method, URI, query, the signed headers, the payload's sha256),
the string to sign over its hash and the credential scope, a key derived from the
secret by date, region and service, and the ``Authorization`` header. S3 takes the
path as given (no second URI-encoding) and requires ``x-amz-content-sha256``. The tests
check every signature against botocore's signer.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    region: str
    service: str = "s3"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _host(url: str) -> str:
    """The Host header a client sends for ``url`` (the port only when not the default)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def sign(creds: Credentials, method: str, url: str, headers: Mapping[str, str],
         payload_sha256: str, now: datetime) -> dict[str, str]:
    """The headers to send with the request: ``headers`` plus ``host``,
    ``x-amz-date``, ``x-amz-content-sha256`` and ``Authorization``. Every header given
    is signed; ``now`` must be UTC; ``url``'s path is URI-encoded already (as sent)."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    parts = urlsplit(url)
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed.update({"host": _host(url), "x-amz-date": amz_date,
                   "x-amz-content-sha256": payload_sha256})
    names = sorted(signed)
    query = "&".join(sorted(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)))
    canonical = "\n".join([
        method.upper(),
        parts.path or "/",  # S3: the path as sent (already URI-encoded), not encoded twice
        query,
        "".join(f"{n}:{signed[n]}\n" for n in names),
        ";".join(names),
        payload_sha256,
    ])
    scope = f"{day}/{creds.region}/{creds.service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + creds.secret_access_key).encode(), day)
    for part in (creds.region, creds.service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {**dict(headers), "x-amz-date": amz_date, "x-amz-content-sha256": payload_sha256}
    out["Authorization"] = (f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, "
                            f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return out
