"""PostgreSQL outages are transient (issue 16, finding 1): a failover must send work to
the retry tiers, not dead-letter it; a statement PostgreSQL refuses stays permanent."""

from __future__ import annotations

import asyncpg
import pytest
from asyncpg.exceptions import _base as apg

from streams.failure.errors import is_db_connection_error, is_transient


@pytest.mark.parametrize("exc", [
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    apg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    apg.InterfaceError("connection is closed"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    ConnectionRefusedError(111, "Connect call failed"),
])
def test_connection_errors_are_transient(exc: BaseException) -> None:
    assert is_db_connection_error(exc)
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    asyncpg.UniqueViolationError("duplicate key"),
    apg.DataError("invalid input for query argument $1"),
    asyncpg.UndefinedTableError("relation does not exist"),
])
def test_refused_statements_stay_permanent(exc: BaseException) -> None:
    assert not is_transient(exc)
