"""The conversation engine: one event in, the conversation updated and its effects out.

Pure and synchronous (no I/O): the Faust agent (``streams/agent/conversation.py``) loads
the conversation, calls :func:`process`, writes the effects to topics and stores the
conversation. Global rules (expiry, menu, stop, re-prompt, recovery, delivery statuses,
timers, the service window) live here; everything a business brings (flows, events from
other users' conversations, choices valid in any flow, its stop) comes from its domain,
through ``ctx.domains`` (``streams/engine/domains.py``). Dedupe of replayed and
redelivered events is the agent's (``streams.agent.dedupe``, decision 0011).
"""

from __future__ import annotations

from schemas.meta.templates import TEMPLATE_FIELDS
from schemas.templates import from_event as template_change
from streams.engine import messages as m
from streams.engine.catalog import MENU_WORDS, STOP_WORDS
from streams.engine.common import say, t
from streams.engine.flows import MENU, Go
from streams.engine.menu import menu_body
from streams.engine.model import Conv, Ctx, Input, Out, parse_input
from streams.engine.templates import RECOVERY
from streams.engine.window import is_open

OUTSIDE_WINDOW = 131047  # Meta's error code for a free-form message outside the window
RESTING = frozenset({"new", "menu", "ended", "expired"})


def process(conv: Conv, ctx: Ctx) -> Out:
    """Apply one event to ``conv`` (mutated in place); the effects, in order."""
    ev = ctx.event
    if ev.type.startswith("message."):
        if ev.phone_number_id:
            conv.phone_number_id = ev.phone_number_id
        # Any message the user sends (a reaction too) opens Meta's window; the latest
        # timestamp wins, whatever order the webhooks came in.
        # (Meta always sends one; without it, the time we handle it.)
        sent = ev.timestamp if ev.timestamp is not None else int(ctx.now)
        conv.last_inbound = max(conv.last_inbound, sent)
    before = conv.snapshot()
    prev = (conv.flow, conv.step)
    out = Out()
    kind = ev.type
    if kind.startswith("status."):
        _status(conv, ctx, out)
    elif ev.field in TEMPLATE_FIELDS:
        # A template's status, category or quality: for every worker's sender and the
        # message_templates table, through wa.templates (decision 0015).
        change = template_change(ev)
        if change is not None:
            out.templates.append(change)
    elif kind == "wastream.recovery":
        _recover(conv, ctx, out)
    elif kind == "wastream.timer":
        _timer(conv, ctx, out)
    elif kind in ctx.domains.handlers:
        go = ctx.domains.handlers[kind](ctx, conv, dict(ev.payload), out)
        if go is not None:
            goto(conv, ctx, go, out)
    elif kind.startswith("message."):
        inp = parse_input(ev)
        if inp is not None:
            _user_input(conv, ctx, inp, out)
            # Any input is activity: the idle deadline restarts (misses included).
            if conv.flow in RESTING:
                conv.deadlines.pop("idle", None)
            else:
                conv.deadlines["idle"] = ctx.now + ctx.opts.idle_s
    if conv.snapshot() != before:
        conv.seq += 1
        out.transition = prev
    return out


def goto(conv: Conv, ctx: Ctx, go: Go, out: Out) -> None:
    """Enter ``go``'s step (a new flow starts with empty data) and send its prompt."""
    if go.flow is not None and go.flow != conv.flow:
        conv.flow = go.flow
        conv.data = {}
    conv.data.update(go.data)
    conv.step = go.step
    conv.misses = 0
    if conv.flow in RESTING:
        conv.deadlines.pop("idle", None)
    else:
        conv.deadlines["idle"] = ctx.now + ctx.opts.idle_s
    if go.prompt:
        out.replies.extend(ctx.domains.flows[conv.flow].steps[conv.step].prompt(ctx, conv))


def _user_input(conv: Conv, ctx: Ctx, inp: Input, out: Out) -> None:
    idle = conv.last_at > 0 and ctx.now - conv.last_at > ctx.opts.idle_s
    expired = conv.flow == "expired" or (idle and conv.flow not in RESTING)
    conv.last_at = ctx.now
    if expired:
        conv.deadlines.pop("idle", None)
        conv.flow, conv.step, conv.data, conv.misses = "menu", "main", {}, 0
        out.replies.append(menu_body(ctx, conv, intro=t(conv, "expired")))
        return
    if inp.word in MENU_WORDS or inp.choice == "menu":
        goto(conv, ctx, MENU, out)
        return
    if inp.word in STOP_WORDS:
        _stop(conv, ctx, out)
        return
    for prefix, handler in ctx.domains.choices:
        if inp.choice.startswith(prefix):  # valid whatever flow the user is in
            go = handler(ctx, conv, inp, out)
            if go is not None:
                goto(conv, ctx, go, out)
            return
    flow = ctx.domains.flows.get(conv.flow)
    step = flow.steps.get(conv.step) if flow else None
    if flow is None or step is None or conv.flow in RESTING - {"menu"}:
        goto(conv, ctx, MENU, out)
        return
    go = step.accept(ctx, conv, inp, out)
    if go is None:
        _miss(conv, ctx, out)
    else:
        goto(conv, ctx, go, out)


def _miss(conv: Conv, ctx: Ctx, out: Out) -> None:
    """Never silence: say so and ask again; every third miss offers the menu."""
    conv.misses += 1
    out.replies.append(say(conv, "reprompt"))
    out.replies.extend(ctx.domains.flows[conv.flow].steps[conv.step].prompt(ctx, conv))
    if conv.misses >= 3:
        conv.misses = 0
        out.replies.append(
            m.buttons_body(
                conv.wa_id, t(conv, "miss3"), [m.Option("menu", t(conv, "miss3.button"))]
            )
        )


def _stop(conv: Conv, ctx: Ctx, out: Out) -> None:
    conv.deadlines.pop("idle", None)
    ctx.domains.stop(ctx, conv, out)  # each domain closes what it holds open
    conv.flow, conv.step, conv.data, conv.misses = "ended", "stopped", {}, 0
    out.replies.append(say(conv, "stop"))


def _recover(conv: Conv, ctx: Ctx, out: Out) -> None:
    """A dead-lettered event left this conversation somewhere unknown: apologise and
    start again from the menu (the agent records in_progress/completed on wa.recovery)."""
    p = ctx.event.payload
    out.recovery = {
        "recovery_id": str(p.get("recovery_id") or ctx.event.event_id),
        "reason": str(p.get("reason") or ""),
        "failed_event_id": p.get("failed_event_id"),
        "from_flow": conv.flow,
        "from_step": conv.step,
    }
    # Domains' deadlines are kept (e.g. an open request's timeout): the other user's
    # answer or the timeout still reaches this user after the reset.
    conv.deadlines.pop("idle", None)
    conv.flow, conv.step, conv.data, conv.misses = "menu", "main", {}, 0
    failed_at = p.get("failed_at")
    if isinstance(failed_at, int):  # the failed message was the user's own
        conv.last_inbound = max(conv.last_inbound, failed_at)
    # A redrive may come after the user's window has closed: then the apology goes as
    # its template (which asks for a reply) and the menu waits for that reply.
    out.replies.append(m.templated(say(conv, "apology"), RECOVERY.ref(), conv.lang))
    if is_open(conv, ctx.now, ctx.opts.window_s):
        out.replies.append(menu_body(ctx, conv))


def _timer(conv: Conv, ctx: Ctx, out: Out) -> None:
    kind = str(ctx.event.payload.get("kind", ""))
    due = ctx.event.payload.get("due")
    if kind not in conv.deadlines or conv.deadlines[kind] != due:
        return  # stale: the deadline moved or was cleared after the timer fired
    del conv.deadlines[kind]
    if kind == "idle":
        if conv.flow not in RESTING:
            conv.flow, conv.step, conv.data, conv.misses = "expired", "idle", {}, 0
        return
    handler = ctx.domains.timers.get(kind.split(":", 1)[0])
    if handler is not None:
        go = handler(ctx, conv, {"kind": kind}, out)
        if go is not None:
            goto(conv, ctx, go, out)


def _status(conv: Conv, ctx: Ctx, out: Out) -> None:
    """Meta's status of one of our messages, passed on to ``wa.delivery``. It leaves the
    conversation as it is: statuses may arrive in any order and more than once, and the
    read model keeps the highest rank (``projections/outbound.py``)."""
    p = ctx.event.payload
    status = str(p.get("status") or ctx.event.type.removeprefix("status."))
    wamid = str(p.get("id") or "")
    error = _first_error(p)
    out.delivery.append({"status": status, "wamid": wamid or None, "error": error})
    if status == "failed" and wamid and error is not None and error.get("code") == OUTSIDE_WINDOW:
        # Meta accepted a free-form message and then found the window closed: its
        # template version goes instead, once (the sender knows it by the wamid).
        out.template_of.append(wamid)


def _first_error(p: dict[str, object]) -> dict[str, object] | None:
    errors = p.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return None

