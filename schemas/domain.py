"""``wa.domain``: business facts. Key = the wa_id of the user whose action caused the fact.

Two layers. On the wire, every fact is one ``DomainEvent`` envelope (this topic's
value). In code, a fact is a typed event: a frozen dataclass subclassing ``Event``,
declared by its domain in one module (``streams/domains/<name>/events.py``). The
envelope's ``name`` is the event's ``type``, its ``data`` the event's fields and its
``version`` the event's ``version``. ``EventTypes.decode`` turns an envelope back into
the current class of its type, upcasting older versions (docs/decisions/0008).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from schemas.record import Record, RecordError

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class DomainEvent(Record):
    """``event_id`` is deterministic (``<cause>:<name>``) so replays are idempotent.
    ``name`` is the typed event's ``type``, ``data`` its fields, ``version`` the version
    of that type's data (records written before versions existed read as 1)."""

    event_id: str
    name: str
    wa_id: str
    data: dict[str, Any] = field(default_factory=dict)
    caused_by: str | None = None
    at: str = ""
    correlation_id: str = ""
    version: int = 1


@dataclass(frozen=True, slots=True)
class Event:
    """The base of every typed domain event: subclasses are frozen dataclasses whose
    fields are the event's data (JSON values: str, int, float, bool, lists, dicts).

    Class attributes:
    - ``type``: its name on ``wa.domain``; never reused for another meaning;
    - ``version``: bumped when the data changes in a way an older reader cannot take
      (a field renamed, removed or re-typed); a new optional field does not bump it;
    - ``upcasters``: ``{n: f}``, where ``f`` turns version ``n``'s data into version
      ``n + 1``'s; one per bump, kept for as long as the log may hold version ``n``.
    """

    type: ClassVar[str] = ""
    version: ClassVar[int] = 1
    upcasters: ClassVar[Mapping[int, Upcaster]] = {}

    def to_data(self) -> dict[str, Any]:
        """The event's fields, as ``DomainEvent.data``."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def upcast(cls: type[Event], version: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` of ``version`` brought to ``cls.version`` through ``cls.upcasters``."""
    if version > cls.version:
        raise RecordError(
            f"{cls.type} version {version} is newer than this reader's {cls.version}"
        )
    out = dict(data)
    for n in range(version, cls.version):
        step = cls.upcasters.get(n)
        if step is None:
            raise RecordError(f"{cls.type}: no upcaster from version {n} to {n + 1}")
        out = step(out)
    return out


class EventTypes:
    """Every declared event class, by ``type`` (the one source of the names)."""

    def __init__(self, classes: Iterable[type[Event]] = ()) -> None:
        self.by_type: dict[str, type[Event]] = {}
        for cls in classes:
            if not cls.type:
                raise ValueError(f"{cls.__qualname__} declares no type")
            if cls.type in self.by_type and self.by_type[cls.type] is not cls:
                raise ValueError(f"event type {cls.type!r} declared twice")
            self.by_type[cls.type] = cls

    def __contains__(self, name: object) -> bool:
        return name in self.by_type

    def __iter__(self) -> Iterator[type[Event]]:
        return iter(self.by_type.values())

    def decode(self, env: DomainEvent) -> Event | None:
        """The current class's event for ``env``; None for a type nobody declares.
        RecordError when its data does not fit (or was written by a newer version)."""
        cls = self.by_type.get(env.name)
        if cls is None:
            return None
        data = upcast(cls, env.version, env.data)
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError as exc:
            raise RecordError(f"not a {cls.type} v{cls.version}: {exc}") from exc
