"""Fault injection for tests and drills, off unless ``WASTREAM_FAULTS`` is set.

``WASTREAM_FAULTS`` is a JSON list of rules, each matched against the raw record value:

    [{"match": "POISON", "kind": "permanent"},
     {"match": "FLAKY", "kind": "transient", "attempts": 2},
     {"kind": "transient", "rate": 0.05, "attempts": 1, "seed": "x"}]

- ``match``: a substring of the value (absent: every record);
- ``kind``: ``transient`` or ``permanent``;
- ``attempts``: fail only while the record's attempt number is below this (so a
  transient fault heals after that many retries); absent: always;
- ``rate``: fail only this fraction of records, chosen by a hash of the value (and
  ``seed``), so the same record fails the same way after a worker restart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from streams.failure.errors import InjectedPermanent, InjectedTransient


@dataclass(frozen=True, slots=True)
class FaultRule:
    kind: str
    match: bytes | None = None
    attempts: int | None = None
    rate: float | None = None
    seed: str = ""

    def hits(self, value: bytes, attempt: int) -> bool:
        if self.match is not None and self.match not in value:
            return False
        if self.attempts is not None and attempt >= self.attempts:
            return False
        if self.rate is not None:
            digest = hashlib.sha256(self.seed.encode() + b"|" + value).digest()
            if int.from_bytes(digest[:8], "big") / 2**64 >= self.rate:
                return False
        return True


class FaultInjector:
    """Raises the injected error of the first rule that hits; does nothing without rules."""

    def __init__(self, rules: list[FaultRule]) -> None:
        self.rules = rules

    @classmethod
    def from_spec(cls, spec: str | None) -> FaultInjector:
        """The rules of a ``WASTREAM_FAULTS`` value (``settings.failure.faults``)."""
        if not spec:
            return cls([])
        raw: list[dict[str, Any]] = orjson.loads(spec)
        return cls([FaultRule(kind=str(r["kind"]),
                              match=str(r["match"]).encode() if r.get("match") else None,
                              attempts=int(r["attempts"]) if "attempts" in r else None,
                              rate=float(r["rate"]) if "rate" in r else None,
                              seed=str(r.get("seed", ""))) for r in raw])

    def __bool__(self) -> bool:
        return bool(self.rules)

    def check(self, value: bytes | None, attempt: int) -> None:
        for rule in self.rules:
            if rule.hits(value or b"", attempt):
                if rule.kind == "permanent":
                    raise InjectedPermanent("injected permanent fault")
                raise InjectedTransient("injected transient fault")
