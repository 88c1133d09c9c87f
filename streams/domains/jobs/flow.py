"""The jobs flow: a home step (Post a job / Find jobs / My jobs), then the steps of
``post``, ``find`` and ``mine``."""

from __future__ import annotations

from typing import Any

from streams.domains.jobs import find, mine, post
from streams.domains.jobs.catalog import say, t
from streams.engine import messages as m
from streams.engine.flows import MENU, Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out

CHOICES = ("jobs:post", "jobs:find", "jobs:mine")
FIRST_STEP = {"jobs:post": "title", "jobs:find": "where", "jobs:mine": "mine"}


def home_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "home.body"), [
        m.Option("jobs:post", t(conv, "button.post_job")),
        m.Option("jobs:find", t(conv, "button.find")),
        m.Option("jobs:mine", t(conv, "button.mine")),
    ])]


def home(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    choice = inp.choice
    if not choice and inp.word.isdigit() and 1 <= int(inp.word) <= len(CHOICES):
        choice = CHOICES[int(inp.word) - 1]
    if choice not in FIRST_STEP:
        return None
    if choice == "jobs:mine" and not mine.open_posts(conv, ctx.now):
        out.replies.append(say(conv, "mine.none"))
        return MENU
    return Go(step=FIRST_STEP[choice])


FLOW = Flow(
    name="jobs",
    start="home",
    steps={
        "home": Step(prompt=home_prompt, accept=home),
        "title": Step(prompt=post.title_prompt, accept=post.title),
        "pay": Step(prompt=post.pay_prompt, accept=post.pay),
        "place": Step(prompt=post.place_prompt, accept=post.place),
        "description": Step(prompt=post.description_prompt, accept=post.description),
        "confirm": Step(prompt=post.confirm_prompt, accept=post.confirm),
        "where": Step(prompt=find.where_prompt, accept=find.where),
        "results": Step(prompt=find.results_prompt, accept=find.results),
        "detail": Step(prompt=find.detail_prompt, accept=find.detail),
        "mine": Step(prompt=mine.mine_prompt, accept=mine.mine),
        "manage": Step(prompt=mine.manage_prompt, accept=mine.manage),
    },
)
