"""Pacing of outbound sends: token buckets per business number and per recipient.

Meta's defaults: 80 messages/s per business phone number (up to 1000 when upgraded)
and, to one user, a short burst then about one message per 6 s (error 131056 past that).
Settings: ``WASTREAM_SENDER_RATE`` (80/s per number), ``WASTREAM_SENDER_RECIPIENT_RATE``
(1/6 per s), ``WASTREAM_SENDER_RECIPIENT_BURST`` (10), in ``settings.sender``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from streams.failure.errors import TransientError
from wastream.config import SenderSettings


class Paced(TransientError):
    """The recipient's pace is exhausted: the message waits (held, no budget spent)
    instead of blocking the partition for every other recipient."""

    hold = True


@dataclass
class TokenBucket:
    """``rate`` tokens per second, up to ``burst``."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = -1.0
    stamp: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst
        self.stamp = self.clock()

    def reserve(self) -> float:
        """Take a token (possibly on credit) and return how long to wait before using it."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def give_back(self) -> None:
        self.tokens += 1

    def is_full(self, now: float) -> bool:
        """Refilled to its burst: the same as a new bucket, so it can be forgotten."""
        return self.tokens + (now - self.stamp) * self.rate >= self.burst


@dataclass
class Pacer:
    """Per business number (waits in place: that limit is shared by every recipient)
    and per recipient (raises :class:`Paced` when the wait would be longer than
    ``max_inline_wait_s``).

    Recipients' buckets are kept in order of last use. Past ``keep_recipients`` the
    least recently used are forgotten, but only once refilled (a full bucket is the same
    as a new one), so a recipient's spacing holds however many others there are; the
    buckets kept are those used within ``burst / recipient_rate`` seconds."""

    rate: float = 80.0
    recipient_rate: float = 1 / 6
    recipient_burst: float = 10.0
    max_inline_wait_s: float = 1.0
    clock: Callable[[], float] = time.monotonic
    numbers: dict[str, TokenBucket] = field(default_factory=dict)
    keep_recipients: int = 10_000
    recipients: OrderedDict[str, TokenBucket] = field(default_factory=OrderedDict)

    @classmethod
    def from_settings(cls, s: SenderSettings) -> Pacer:
        return cls(rate=s.rate, recipient_rate=s.recipient_rate,
                   recipient_burst=s.recipient_burst)

    async def acquire(self, phone_number_id: str, recipient: str) -> None:
        rb = self.recipients.get(recipient)
        if rb is None:
            self._forget_idle()
            rb = self.recipients[recipient] = TokenBucket(self.recipient_rate,
                                                          self.recipient_burst, self.clock)
        else:
            self.recipients.move_to_end(recipient)
        wait = rb.reserve()
        if wait > self.max_inline_wait_s:
            rb.give_back()
            raise Paced("recipient pace exhausted", retry_after_s=wait)
        nb = self.numbers.get(phone_number_id)
        if nb is None:
            nb = self.numbers[phone_number_id] = TokenBucket(self.rate, max(1.0, self.rate),
                                                             self.clock)
        wait = max(wait, nb.reserve())
        if wait > 0:
            await asyncio.sleep(wait)

    def _forget_idle(self) -> None:
        now = self.clock()
        while len(self.recipients) >= self.keep_recipients:
            oldest = next(iter(self.recipients.values()))
            if not oldest.is_full(now):
                return  # every bucket left was used recently: keep them all
            self.recipients.popitem(last=False)
