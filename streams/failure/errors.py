"""The errors of stream processing, each carrying its own classification.

The failure router (``streams.failure.router``) reads three class attributes and nothing else:

- ``transient``: True → the retry tiers; False → straight to ``wa.dlq``.
- ``hold``: True → the work waits (re-scheduled at the same attempt, no retry budget
  spent), used while a circuit breaker is open.
- ``retry_after_s``: an optional hint (instance attribute) for the earliest useful retry.

Any exception that is not a :class:`StreamError` and has no ``transient`` attribute is
treated as permanent: an unexpected exception is a bug, and retrying a bug three times
only delays its dead letter (see :func:`classify`). Library errors that are known to be
transient (timeouts, connection resets, aiokafka's retriable errors) are mapped in
:func:`classify` so that code calling them need not wrap every call.

Meta's Graph API error codes are mapped onto classes in one registry,
:data:`META_ERROR_CODES` (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import asyncpg
from asyncpg.exceptions import _base as apg


class StreamError(Exception):
    """Root of every error raised by our stream processing; permanent unless a subclass
    says otherwise."""

    transient: ClassVar[bool] = False
    hold: ClassVar[bool] = False
    #: The error class a dead letter shows (``wastream.error_class``); None: the
    #: exception's qualified class name.
    error_class: ClassVar[str | None] = None

    def __init__(self, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TransientError(StreamError):
    """Worth retrying later: a dependency is away, slow or rate-limiting us."""

    transient = True


class PermanentError(StreamError):
    """Retrying cannot help: bad input, a bug, a request the dependency refuses."""

    transient = False


class BreakerOpen(TransientError):
    """A circuit breaker is open: the work waits for it without spending retry budget."""

    hold = True

    def __init__(self, name: str, retry_after_s: float) -> None:
        super().__init__(f"circuit breaker {name!r} is open", retry_after_s=retry_after_s)
        self.breaker = name


class ParkedOverflow(PermanentError):
    """A key already has ``WASTREAM_PARKED_MAX`` records parked behind its head: this one
    is dead-lettered instead (visible and redrivable), so one user's flood neither grows
    the parked table without bound nor holds up anyone else."""


class EffectTooLarge(PermanentError):
    """An effect of the event (a reply, a state record …) is larger than a producer
    request may be: the broker would refuse it on every try, so the event is
    dead-lettered instead of stalling its agent's group commit."""


class TemplateUnavailable(PermanentError):
    """A message that must go as a template whose template is not APPROVED (PENDING,
    REJECTED, PAUSED, DISABLED, or a status never seen), by our ``wa.templates`` or by
    Meta's answer: held as a dead letter of class ``template_unavailable``, redriven
    once a status change approves the template (decision 0015)."""

    error_class = "template_unavailable"

    def __init__(self, message: str = "", *, template: tuple[str, str] | None = None,
                 status: str | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.template = template
        self.status = status


class InjectedTransient(TransientError):
    """A fault injected by ``WASTREAM_FAULTS`` (tests and drills only)."""


class InjectedPermanent(PermanentError):
    """A fault injected by ``WASTREAM_FAULTS`` (tests and drills only)."""


# -- Graph API --------------------------------------------------------------------------


class GraphError(StreamError):
    """An error answered by (or on the way to) Meta's Graph API."""

    def __init__(self, message: str = "", *, code: int | None = None,
                 http_status: int | None = None, details: dict[str, Any] | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.code = code
        self.http_status = http_status
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "code": self.code, "http_status": self.http_status,
                "message": str(self), "transient": self.transient}


class GraphTransient(GraphError, TransientError):
    """5xx, timeouts, connection errors, and codes Meta documents as temporary."""


class GraphPermanent(GraphError, PermanentError):
    """A request Meta refuses for good (bad parameter, unreachable user, …)."""


class GraphRateLimited(GraphTransient):
    """130429 (throughput) / 80007, 4, 613: too many messages from this number."""


class GraphPairRateLimited(GraphTransient):
    """131056: too many messages to the same user in a short time."""


class GraphOutsideWindow(GraphPermanent):
    """131047: more than 24 hours since the user last wrote (needs a template)."""


class GraphUndeliverable(GraphPermanent):
    """131026: the message cannot be delivered (not a WhatsApp user, old app, …)."""


class GraphUnsupportedType(GraphPermanent):
    """131051: unsupported message type."""


class GraphInvalidParameter(GraphPermanent):
    """100: invalid parameter (a bug in the body we built)."""


class GraphBadPathId(GraphPermanent):
    """An id that was to go into a Graph API URL path is not one (a phone number id of
    digits, a media id without ``/``, ``.``, ``?`` or ``%``): refused before any
    request, since a crafted id would address another endpoint with our token."""


_DIGITS = re.compile(r"[0-9]{1,32}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")


def phone_number_id(value: str) -> str:
    """``value`` if it is a phone number id (digits only), else :class:`GraphBadPathId`."""
    if not _DIGITS.fullmatch(value):
        raise GraphBadPathId(f"phone_number_id {value[:40]!r} is not digits only")
    return value


def media_id(value: str) -> str:
    """``value`` if it is a media id (letters, digits, ``_`` and ``-``), else
    :class:`GraphBadPathId`."""
    if not _TOKEN.fullmatch(value):
        raise GraphBadPathId(f"media id {value[:40]!r} is not a plain id")
    return value


class GraphTemplateUnavailable(GraphPermanent, TemplateUnavailable):
    """132001 (no such template in this language), 132015 (paused for low quality),
    132016 (disabled): the template cannot be used until it is approved again (held
    like :class:`TemplateUnavailable`)."""


class GraphTemplateInvalid(GraphPermanent):
    """132000, 132005, 132007, 132012: the parameters we filled in do not fit the
    approved template (count, length, characters, format): a bug on our side."""


class GraphRecipientRefused(GraphPermanent):
    """131021 (recipient is the sender), 131049 (Meta held it for the user's
    engagement), 131050 (the user stopped marketing messages): not to this user."""


class GraphAuthError(GraphPermanent):
    """0, 190 (access token expired or invalid), 10/200 (permission): an operator must act."""


@dataclass(frozen=True, slots=True)
class _Code:
    cls: type[GraphError]
    meaning: str


#: Meta error code → error class. Codes not listed fall back on the HTTP status
#: (5xx and 429 transient, other 4xx permanent), see :func:`graph_error`.
META_ERROR_CODES: dict[int, _Code] = {
    0: _Code(GraphAuthError, "AuthException"),
    4: _Code(GraphRateLimited, "API too many calls"),
    10: _Code(GraphAuthError, "API permission denied"),
    100: _Code(GraphInvalidParameter, "Invalid parameter"),
    190: _Code(GraphAuthError, "Access token has expired"),
    200: _Code(GraphAuthError, "API permission"),
    613: _Code(GraphRateLimited, "Calls to this API have exceeded the rate limit"),
    80007: _Code(GraphRateLimited, "Rate limit issues (WABA)"),
    130429: _Code(GraphRateLimited, "Rate limit hit (throughput)"),
    368: _Code(GraphAuthError, "Temporarily blocked for policies violations"),
    131000: _Code(GraphTransient, "Something went wrong"),
    131005: _Code(GraphAuthError, "Access denied"),
    131008: _Code(GraphInvalidParameter, "Required parameter is missing"),
    131009: _Code(GraphInvalidParameter, "Parameter value is not valid"),
    131016: _Code(GraphTransient, "Service unavailable"),
    131026: _Code(GraphUndeliverable, "Message undeliverable"),
    131021: _Code(GraphRecipientRefused, "Recipient cannot be sender"),
    131031: _Code(GraphAuthError, "Account has been locked"),
    131042: _Code(GraphAuthError, "Business eligibility payment issue"),
    131047: _Code(GraphOutsideWindow, "Re-engagement message (outside the 24 h window)"),
    131048: _Code(GraphRateLimited, "Spam rate limit hit"),
    131049: _Code(GraphRecipientRefused, "Meta chose not to deliver (user engagement)"),
    131050: _Code(GraphRecipientRefused, "User stopped marketing messages"),
    131051: _Code(GraphUnsupportedType, "Unsupported message type"),
    131056: _Code(GraphPairRateLimited, "(Business account, consumer account) pair rate limit hit"),
    131057: _Code(GraphTransient, "Account in maintenance mode"),
    132000: _Code(GraphTemplateInvalid, "Template param count mismatch"),
    132001: _Code(GraphTemplateUnavailable, "Template does not exist (name or language)"),
    132005: _Code(GraphTemplateInvalid, "Template hydrated text too long"),
    132007: _Code(GraphTemplateInvalid, "Template format character policy violated"),
    132012: _Code(GraphTemplateInvalid, "Template parameter format mismatch"),
    132015: _Code(GraphTemplateUnavailable, "Template is paused (low quality)"),
    132016: _Code(GraphTemplateUnavailable, "Template is disabled"),
    132068: _Code(GraphPermanent, "Flow is blocked"),
    132069: _Code(GraphRateLimited, "Flow is throttled"),
    133010: _Code(GraphUndeliverable, "Phone number not registered"),
    133004: _Code(GraphTransient, "Server temporarily unavailable"),
}


def graph_error(http_status: int, body: Any) -> GraphError:
    """The error for a non-2xx Graph API answer: by Meta's code when we know it,
    else by HTTP status (429 and 5xx transient, other 4xx permanent)."""
    err = body.get("error") if isinstance(body, dict) else None
    code: int | None = None
    message = f"HTTP {http_status}"
    if isinstance(err, dict):
        raw_code = err.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        message = str(err.get("message") or message)
    known = META_ERROR_CODES.get(code) if code is not None else None
    if known is not None:
        cls: type[GraphError] = known.cls
    elif http_status == 429:
        cls = GraphRateLimited
    elif http_status >= 500:
        cls = GraphTransient
    else:
        cls = GraphPermanent
    return cls(f"{message} (code {code})" if code is not None else message, code=code,
               http_status=http_status, details=err if isinstance(err, dict) else {})


# -- classification ----------------------------------------------------------------------

#: Exceptions from libraries that mean "the dependency is away right now".
_TRANSIENT_BUILTINS: tuple[type[BaseException], ...] = (
    TimeoutError, asyncio.TimeoutError, ConnectionError, OSError,
)


#: What PostgreSQL (asyncpg) raises when it is away or restarting, not refusing the
#: statement: the connection was lost or refused (``PostgresConnectionError``,
#: ``OSError``), the server is shutting down or starting (class 57,
#: ``OperatorInterventionError``: 57P01 admin shutdown, 57P03 cannot connect now) or full
#: (53300 too many connections), or a connection that the server closed was used before
#: asyncpg saw it close (``InternalClientError`` "cannot switch to state 15; another
#: operation (2) is in progress": the server's unsolicited FATAL, read while idle, left
#: the protocol consuming an error until the end of the socket arrives). Retrying on a
#: new connection is safe for all of them. ``is_db_connection_error`` is the exact test.
DB_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    *_TRANSIENT_BUILTINS, asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError, asyncpg.TooManyConnectionsError,
    apg.InterfaceError, apg.InternalClientError,
)


def is_db_connection_error(exc: BaseException) -> bool:
    """One of ``DB_CONNECTION_ERRORS``, less ``InterfaceError``'s subclasses that are
    our mistakes (a value of the wrong type, an unsupported feature), not an outage."""
    if isinstance(exc, (apg.DataError, apg.ClientConfigurationError,
                        apg.UnsupportedClientFeatureError, apg.UnsupportedServerFeatureError)):
        return False
    return isinstance(exc, DB_CONNECTION_ERRORS)


def is_transient(exc: BaseException) -> bool:
    """The classification of any exception, read from its ``transient`` (or aiokafka's
    ``retriable``) attribute; connection errors and timeouts are transient; anything
    else is permanent (an unexpected exception is a bug)."""
    flag = getattr(exc, "transient", None)
    if isinstance(flag, bool):
        return flag
    retriable = getattr(exc, "retriable", None)  # aiokafka.errors.KafkaError
    if isinstance(retriable, bool):
        return retriable
    return is_db_connection_error(exc)


def is_hold(exc: BaseException) -> bool:
    """True when the work should wait without spending retry budget (breaker open)."""
    return bool(getattr(exc, "hold", False))


def kind(exc: BaseException) -> str:
    return "transient" if is_transient(exc) else "permanent"
