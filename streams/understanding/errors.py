"""How a call to an understanding backend fails, classified for the failure router.

A backend that answers garbage (not JSON, not the schema, a refusal, a truncated answer)
has failed as surely as one that timed out: both are transient (another try, or the
breaker's fallback, may do better) and neither is ever read as an understanding.
"""

from __future__ import annotations

from streams.failure.errors import PermanentError, StreamError, TransientError


class UnderstandingError(StreamError):
    """Root of the understanding backends' errors."""


class AgentUnavailable(UnderstandingError, TransientError):
    """No answer: a timeout, a connection error, a 5xx, 408 or 429."""


class AgentBadAnswer(UnderstandingError, TransientError):
    """An answer that is not an understanding: invalid JSON, the wrong schema, a
    refusal, a truncated or empty completion."""


class AgentRefused(UnderstandingError, PermanentError):
    """A 4xx other than 408/429: our request or our key is wrong; an operator must act."""
