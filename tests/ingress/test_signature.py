"""X-Hub-Signature-256 verification (pure)."""

from __future__ import annotations

import hashlib
import hmac

from ingress.signature import Verdict, sign, verify

SECRET = b"s3cret"
BODY = '{"text":"café \\u00e9 - 🚕"}'.encode()


def _mac(body: bytes) -> str:
    return hmac.new(SECRET, body, hashlib.sha256).hexdigest()


def test_right_signature() -> None:
    assert verify(BODY, "sha256=" + _mac(BODY), SECRET) is Verdict.OK
    assert sign(BODY, SECRET) == "sha256=" + _mac(BODY)


def test_missing_and_empty() -> None:
    assert verify(BODY, None, SECRET) is Verdict.MISSING
    assert verify(BODY, "", SECRET) is Verdict.MISSING


def test_wrong_mac_prefix_and_garbage() -> None:
    good = _mac(BODY)
    assert verify(BODY, "sha256=" + _mac(BODY + b" "), SECRET) is Verdict.WRONG
    assert verify(BODY, "sha1=" + good, SECRET) is Verdict.WRONG
    assert verify(BODY, good, SECRET) is Verdict.WRONG  # no prefix
    assert verify(BODY, "SHA256=" + good, SECRET) is Verdict.WRONG
    assert verify(BODY, "sha256=zz" + good[2:], SECRET) is Verdict.WRONG
    assert verify(BODY, "sha256=" + good[:-2], SECRET) is Verdict.WRONG  # truncated
    assert verify(BODY, "sha256=", SECRET) is Verdict.WRONG


def test_uppercase_hex_is_the_same_mac() -> None:
    assert verify(BODY, "sha256=" + _mac(BODY).upper(), SECRET) is Verdict.OK


def test_mac_is_over_the_bytes_not_the_json() -> None:
    # The same JSON document, serialised differently: only the received bytes count.
    reserialised = '{"text":"café é - 🚕"}'.encode()
    assert verify(reserialised, "sha256=" + _mac(BODY), SECRET) is Verdict.WRONG
