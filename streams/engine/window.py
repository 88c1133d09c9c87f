"""Meta's customer-service window: a free-form message reaches a user only within
``window_s`` (24 hours) of their last message; outside it only a template goes through
(else error 131047). Decision 0015.

The window is the recipient's ``Conv.last_inbound`` (Meta's timestamp of their last
message, set by the engine from the log). Every reply is built in its recipient's own
conversation (another user's news comes as an internal event to it), so the window
is known where the reply is chosen.
"""

from __future__ import annotations

from typing import Any

from streams.engine.messages import TEMPLATE
from streams.engine.model import Conv


def is_open(conv: Conv, now: float, window_s: float) -> bool:
    """True while ``conv``'s user may get free-form messages."""
    return now - conv.last_inbound < window_s


def choose(reply: dict[str, Any], conv: Conv, now: float,
           window_s: float) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the body to send, its template version or None) of one reply of ``conv``.

    A reply without a template goes as it is (an answer to the user's own message,
    whose window it just opened). A reply with one goes as its template when the
    recipient's window is closed; the template is kept in every case, so the sender
    can fall back on it when Meta answers 131047 anyway (clock skew)."""
    template = reply.get(TEMPLATE)
    if template is None:
        return reply, None
    free = {k: v for k, v in reply.items() if k != TEMPLATE}
    mine = str(free.get("to") or conv.wa_id) == conv.wa_id
    if mine and not is_open(conv, now, window_s):
        return template, template
    return free, template
