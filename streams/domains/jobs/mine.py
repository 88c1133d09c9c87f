"""Jobs · my jobs: my open posts with their number of applicants → one → Close it
(``JobClosed``: it leaves every search) or keep it."""

from __future__ import annotations

from typing import Any

from streams.domains.jobs import kept
from streams.domains.jobs.catalog import say, t
from streams.domains.jobs.events import JobClosed
from streams.engine import messages as m
from streams.engine.flows import MENU, Go
from streams.engine.model import Conv, Ctx, Input, Out


def open_posts(conv: Conv, now: float) -> list[tuple[str, dict[str, Any]]]:
    """My posts still open at ``now``, newest expiry first."""
    got = [(k, v) for k, v in kept.posts(conv).items() if v["until"] > now]
    return sorted(got, key=lambda kv: -kv[1]["until"])[: m.MAX_ROWS]


def mine_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    posts = open_posts(conv, ctx.now)
    if not posts:
        return [say(conv, "mine.none")]
    rows = [
        m.Option(f"myjob:{job_id}", _clip(p["title"]),
                 t(conv, "mine.row", count=len(kept.apps(conv, job_id)),
                   days=f"{max(0.0, (p['until'] - ctx.now) / 86400):.0f}"))
        for job_id, p in posts
    ]
    return [m.list_body(conv.wa_id, t(conv, "mine.body", count=len(rows)),
                        t(conv, "mine.button"), rows, section=t(conv, "mine.button"))]


def _clip(s: str) -> str:
    return s if len(s) <= m.MAX_ROW_TITLE else s[: m.MAX_ROW_TITLE - 1] + "…"


def mine(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    posts = open_posts(conv, ctx.now)
    job_id = inp.choice.removeprefix("myjob:") if inp.choice.startswith("myjob:") else ""
    if not job_id and inp.word.isdigit() and 1 <= int(inp.word) <= len(posts):
        job_id = posts[int(inp.word) - 1][0]
    if job_id not in dict(posts):
        return None
    return Go(step="manage", data={"job": job_id})


def manage_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    post = kept.posts(conv).get(conv.data.get("job", ""))
    if post is None:
        return [say(conv, "mine.none")]
    count = len(kept.apps(conv, conv.data["job"]))
    return [m.buttons_body(conv.wa_id, t(conv, "manage.body", title=post["title"], count=count),
                           [m.Option("jobs:close", t(conv, "button.close")),
                            m.Option("jobs:keep", t(conv, "button.keep"))])]


def manage(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    job_id = conv.data.get("job", "")
    if inp.choice == "jobs:keep":
        return MENU
    if inp.choice != "jobs:close":
        return None
    post = kept.forget_post(conv, job_id)
    if post is not None:
        out.domain.append(JobClosed(job_id=job_id))
        out.replies.append(say(conv, "manage.closed", title=post["title"]))
    return MENU
