"""Log lines of every service: JSON objects (or text with ``WASTREAM_LOG_FORMAT=text``)
at ``WASTREAM_LOG_LEVEL``, each carrying the ``correlation_id`` and ``event_id`` of the
event being handled.

The ingress sets a correlation id per request; it travels in every record's
``correlation_id`` header and envelope field (``schemas.headers.CORRELATION_ID``). A
consumer binds the ids of the record it handles with :func:`bound` (context variables,
so concurrent tasks each see their own) and every line logged inside names them.

PII rule: phone numbers, profile names and message text are logged at DEBUG only;
INFO lines carry counts, types, ids of our own and timings.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from wastream.config import Settings

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="-")
event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
# The raw value of the record being handled: its event id is decoded from it only when a
# line is logged, so binding a record costs a consumer no JSON decoding per record.
_record: ContextVar[bytes | None] = ContextVar("record", default=None)

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
}


@contextmanager
def bound(corr: str | None, event: str | None = None,
          record: bytes | None = None) -> Iterator[None]:
    """Every line logged inside names ``corr`` and ``event`` (None leaves one as it was);
    with ``record`` (a record's JSON value) and no ``event``, the event id is read from
    the record's ``event_id`` (or an outbound message's ``outbound_id``) when a line is
    logged."""
    tokens = (correlation_id.set(corr) if corr else None,
              event_id.set(event) if event else None,
              _record.set(record) if record is not None and not event else None)
    try:
        yield
    finally:
        if tokens[2] is not None:
            _record.reset(tokens[2])
        if tokens[1] is not None:
            event_id.reset(tokens[1])
        if tokens[0] is not None:
            correlation_id.reset(tokens[0])


def id_of(value: bytes | None) -> str | None:
    """The event id of a record's JSON value (``event_id``, else ``outbound_id``)."""
    if not value:
        return None
    try:
        d = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    ev = (d.get("event_id") or d.get("outbound_id")) if isinstance(d, dict) else None
    return ev if isinstance(ev, str) else None


def _ids(record: logging.LogRecord) -> tuple[str, str | None]:
    event = getattr(record, "event_id", None) or event_id.get()
    if event is None:
        event = id_of(_record.get())
    return (getattr(record, "correlation_id", None) or correlation_id.get(), event)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, correlation_id, event_id (when
    an event is bound), the record's extras and the traceback."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        corr, event = _ids(record)
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "correlation_id": corr,
        }
        if event is not None:
            out["event_id"] = event
        if self.service is not None:
            out["service"] = self.service
        for k, v in record.__dict__.items():
            if k not in _STANDARD and k not in out:
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """``ts level logger [correlation_id event_id] msg`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(ids)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        corr, event = _ids(record)
        record.ids = corr if event is None else f"{corr} {event}"
        return super().format(record)


def configure(level: str = "INFO", fmt: str = "json", service: str | None = None) -> None:
    """Route every logger of the process to stderr, as JSON lines or text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every failed connection attempt at ERROR while the broker is away;
    # our own code logs the outage once, with what to do.
    logging.getLogger("aiokafka").setLevel(max(root.level, logging.CRITICAL))


def configure_from(settings: Settings, service: str) -> None:
    """:func:`configure` from ``settings.observability`` (a :class:`Settings`)."""
    obs = settings.observability
    configure(obs.log_level, obs.log_format, service)
