"""The declarative pieces a workflow is made of: a ``Flow`` is named ``Step``s; a step has
a prompt (what the bot sends on entering it) and an ``accept`` function that reads one
user input and returns where to go (``Go``) or ``None`` when the input does not fit
(the engine then re-prompts; the third miss offers the menu)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streams.engine.model import Conv, Ctx, Input, Out

Body = dict[str, Any]
Prompt = Callable[[Ctx, Conv], list[Body]]
Accept = Callable[[Ctx, Conv, Input, Out], "Go | None"]
TimerHandler = Callable[[Ctx, Conv, dict[str, Any], Out], "Go | None"]


@dataclass(frozen=True, slots=True)
class Go:
    """Where a conversation goes next. ``flow=None`` stays in the current flow;
    ``prompt=False`` enters the step without sending its prompt (the accept function
    already said what was needed)."""

    step: str
    flow: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    prompt: bool = True


MENU = Go(step="main", flow="menu")


@dataclass(frozen=True, slots=True)
class Step:
    """One state of a flow. ``understand``: a text the user writes at this step is first
    read by the agent's understanding backend (outside the engine: the conversation agent
    calls it before :func:`~streams.engine.process.process`), and ``accept`` finds the
    result on ``ctx.understanding``."""

    prompt: Prompt
    accept: Accept
    understand: bool = False


@dataclass(frozen=True, slots=True)
class Flow:
    """A workflow: its steps, its first step, and handlers for its own timers."""

    name: str
    start: str
    steps: dict[str, Step]
    timers: dict[str, TimerHandler] = field(default_factory=dict)
