"""``X-Hub-Signature-256``: HMAC-SHA256 of the raw request bytes with the app secret.

Reference: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
The MAC is over the bytes received (never re-serialised JSON: Meta escapes non-ASCII
as ``\\uXXXX``), compared in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from enum import Enum

PREFIX = "sha256="


class Verdict(Enum):
    """Outcome of a signature check: ``MISSING`` → 401, ``WRONG`` → 403."""

    OK = "ok"
    MISSING = "missing"
    WRONG = "wrong"


@functools.lru_cache(maxsize=8)
def _keyed(secret: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 keyed with ``secret`` and fed nothing yet, to be copied."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def sign(body: bytes, secret: bytes) -> str:
    """The header value Meta would send for ``body``."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


_HEX_DIGEST_LEN = 2 * hashlib.sha256().digest_size


def well_formed(header: str | None) -> Verdict:
    """What can be said of ``header`` before the body is read: ``MISSING``, ``WRONG``
    unless it is ``sha256=`` and 64 hex digits, else ``OK`` (it may still not match).
    A garbage header so earns no read of the body and no HMAC."""
    if not header:
        return Verdict.MISSING
    digest = header[len(PREFIX):]
    if not header.startswith(PREFIX) or len(digest) != _HEX_DIGEST_LEN:
        return Verdict.WRONG
    try:
        bytes.fromhex(digest)
    except ValueError:
        return Verdict.WRONG
    return Verdict.OK


def verify(body: bytes, header: str | None, secret: bytes) -> Verdict:
    """Check ``header`` against the HMAC of ``body``.

    The prefix must be exactly ``sha256=``; the hex digest is case-insensitive (it is
    the same MAC either way, and hex decoding is what we compare, not text).
    """
    if not header:
        return Verdict.MISSING
    if not header.startswith(PREFIX):
        return Verdict.WRONG
    try:
        given = bytes.fromhex(header[len(PREFIX):])
    except ValueError:
        return Verdict.WRONG
    mac = _keyed(secret).copy()  # the key's pads are hashed once, not per request
    mac.update(body)
    expected = mac.digest()
    return Verdict.OK if hmac.compare_digest(given, expected) else Verdict.WRONG
