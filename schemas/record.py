"""The base of our own topic values: frozen, typed, versioned, JSON via orjson."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self

import orjson


class RecordError(ValueError):
    """A value that is not a valid record of its topic (a permanent error)."""

    transient = False


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    """Subclasses are frozen dataclasses; ``schema_version`` travels in every value and
    unknown fields of a newer writer are ignored by older readers."""

    SCHEMA_VERSION: ClassVar[int] = 1

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["schema_version"] = self.SCHEMA_VERSION
        return d

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in d.items() if k in names})
        except TypeError as exc:
            raise RecordError(f"not a {cls.__name__}: {exc}") from exc

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        try:
            d = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"{cls.__name__} value is not JSON: {exc}") from exc
        if not isinstance(d, dict):
            raise RecordError(f"{cls.__name__} value is not a JSON object")
        return cls.from_dict(d)
