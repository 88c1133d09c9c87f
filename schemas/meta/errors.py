"""Meta's error objects: value-level ``errors[]`` of a change, and ``statuses[].errors[]``.

Reference: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes

Event type ``error`` for every value-level error of any field (``InboundEvent.field``
says which); ``event_id`` is a content hash; key is the phone number id (an error has
no user). :func:`classify` maps Meta's codes to error classes that carry their own
``transient`` flag, for the retry router and the sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.envelope import InboundEvent
from schemas.meta.common import ChangeContext, items


class MetaError(Exception):
    """Root of Meta's error codes; ``transient`` tells the retry router what to do."""

    transient = False

    def __init__(self, code: int | None, title: str = "", details: str = "") -> None:
        super().__init__(f"meta error {code}: {title}" + (f" ({details})" if details else ""))
        self.code = code
        self.title = title
        self.details = details


class RateLimited(MetaError):
    """130429 throughput limit, 131056 pair rate limit, 80007/4/613 API limits."""

    transient = True


class TemporarilyUnavailable(MetaError):
    """131000 something went wrong, 131016 service unavailable, 2/1 API unknown/service."""

    transient = True


class OutsideWindow(MetaError):
    """131047: more than 24 h since the user last wrote; needs a template."""


class RecipientUnreachable(MetaError):
    """131026 undeliverable, 131049 not delivered to keep engagement healthy (ecosystem)."""


class InvalidRequest(MetaError):
    """100 invalid parameter, 131008/131009 required/invalid parameter, 131051 type."""


class AuthError(MetaError):
    """0/190 token invalid or expired, 10/200-299 permission: fix configuration."""


ERROR_CLASSES: dict[int, type[MetaError]] = {
    4: RateLimited, 80007: RateLimited, 130429: RateLimited, 131056: RateLimited,
    613: RateLimited,
    1: TemporarilyUnavailable, 2: TemporarilyUnavailable, 131000: TemporarilyUnavailable,
    131016: TemporarilyUnavailable,
    131047: OutsideWindow,
    131026: RecipientUnreachable, 131049: RecipientUnreachable,
    100: InvalidRequest, 131008: InvalidRequest, 131009: InvalidRequest, 131051: InvalidRequest,
    0: AuthError, 10: AuthError, 190: AuthError,
}


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A typed view of one Meta error object."""

    code: int | None
    title: str
    message: str
    details: str
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ErrorInfo:
        code = d.get("code")
        data = d.get("error_data")
        details = data.get("details") if isinstance(data, dict) else None
        title, message = d.get("title"), d.get("message")
        return cls(
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            title=title if isinstance(title, str) else "",
            message=message if isinstance(message, str) else "",
            details=details if isinstance(details, str) else "",
            raw=d,
        )

    def to_exception(self) -> MetaError:
        """The classified exception for this error (unknown codes: permanent MetaError)."""
        cls = ERROR_CLASSES.get(self.code, MetaError) if self.code is not None else MetaError
        return cls(self.code, self.title or self.message, self.details)


def classify(error: dict[str, Any]) -> MetaError:
    """Meta's error object → an exception whose class says transient or permanent."""
    return ErrorInfo.from_dict(error).to_exception()


def error_events(ctx: ChangeContext, value: dict[str, Any]) -> list[InboundEvent]:
    """One ``error`` event per value-level ``errors[]`` item, in order."""
    key = ctx.fallback_key()
    return [ctx.hashed("error", key, e, i) for i, e in enumerate(items(value, "errors", ctx))]
