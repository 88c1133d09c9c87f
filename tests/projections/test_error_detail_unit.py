"""A record PostgreSQL refuses is logged and kept in ``projection_errors`` without the
row contents asyncpg's DETAIL carries (phone numbers, message text: PII)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from projections.base import Msg
from projections.store import Store, describe
from projections.webhook_logs import WebhookLogsProjection
from wastream.config import Settings

PII = "250788555001"


def _unique_violation() -> asyncpg.PostgresError:
    # Built the way asyncpg builds it from the server's error fields.
    return asyncpg.PostgresError.new({
        "S": "ERROR", "C": "23505", "n": "wa_events_pkey", "t": "wa_events",
        "M": 'duplicate key value violates unique constraint "wa_events_pkey"',
        "D": f"Key (wa_id)=({PII}) already exists.", "H": f"look at {PII}"})


class _Conn:
    """Just enough of an asyncpg connection for ``_record_error``: records statements."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def execute(self, sql: str, *args: Any) -> str:
        self.calls.append((sql, *args))
        return "OK"


def test_describe_keeps_the_message_and_names_but_not_the_detail() -> None:
    exc = _unique_violation()
    assert PII in str(exc)  # what the old code logged and stored
    text = describe(exc)
    assert PII not in text
    assert text.startswith("UniqueViolationError: duplicate key value")
    assert "SQLSTATE 23505" in text
    assert "wa_events_pkey" in text
    assert describe(ValueError("bad")) == "ValueError: bad"


async def test_a_skipped_record_is_logged_and_stored_without_the_detail(
        caplog: pytest.LogCaptureFixture) -> None:
    store = Store(Settings.from_env({}), [WebhookLogsProjection()], schema="s")
    conn = _Conn()
    msg = Msg("wa.webhooks.raw", 0, 7, b"k", b"v", (), 0)
    with caplog.at_level(logging.DEBUG, logger="projections.store"):
        await store._record_error(conn, WebhookLogsProjection(), msg,  # type: ignore[arg-type]
                                  _unique_violation())
    [insert] = [c for c in conn.calls if "projection_errors" in c[0]]
    error_text = insert[5]
    assert error_text.startswith("UniqueViolationError")
    assert PII not in error_text
    assert caplog.records
    assert all(PII not in r.getMessage() for r in caplog.records)
