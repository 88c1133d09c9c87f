"""Jobs · post a job: title → pay → place → description (or Skip) → confirm.

Nothing is stored until the poster confirms: the answers live in the flow's data, and
``JobPosted`` is emitted by the confirmation. The post's expiry is a deadline in the
poster's conversation (``job_expire:<id>``), so ``JobExpired`` comes from the poster's
own conversation, in order with the rest of it.
"""

from __future__ import annotations

from typing import Any

from streams.domains.jobs import kept
from streams.domains.jobs.catalog import say, t
from streams.domains.jobs.events import JobPosted
from streams.domains.jobs.options import opts
from streams.engine import messages as m
from streams.engine.flows import MENU, Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.listings import parse_pay
from streams.listings.conversation import new_id, read_spot

MIN_TITLE, MAX_TITLE = 3, 60
MAX_DESCRIPTION = 500


def title_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "post.title", max=MAX_TITLE)]


def title(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    text = " ".join(inp.text.split())
    if inp.kind != "text" or not MIN_TITLE <= len(text) <= MAX_TITLE:
        return None
    return Go(step="pay", data={"title": text})


def pay_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [say(conv, "post.pay")]


def pay(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.kind != "text":
        return None
    got = parse_pay(" ".join(inp.text.split()))
    if got.amount is None:
        return None
    return Go(step="place", data={"pay": got.text, "pay_amount": got.amount,
                                  "pay_period": got.period and str(got.period)})


def place_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.location_request_body(conv.wa_id, t(conv, "post.place"))]


def place(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    spot = read_spot(inp)
    if spot is None:
        return None
    return Go(step="description", data={"lat": spot.lat, "lon": spot.lon, "place": spot.name})


def description_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "post.description", max=MAX_DESCRIPTION),
                           [m.Option("jobs:skip", t(conv, "button.skip"))])]


def description(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "jobs:skip":
        return Go(step="confirm", data={"description": ""})
    text = inp.text.strip()
    if inp.kind != "text" or not text or len(text) > MAX_DESCRIPTION:
        return None
    return Go(step="confirm", data={"description": text})


def confirm_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    d = conv.data
    where = d.get("place") or t(conv, "post.pinned")
    summary = t(conv, "post.confirm", title=d["title"], pay=d["pay"], place=where,
                days=f"{opts(ctx).lifetime_s / 86400:g}")
    if d.get("description"):
        summary += "\n" + d["description"]
    return [m.buttons_body(conv.wa_id, summary, [
        m.Option("jobs:post", t(conv, "button.post")),
        m.Option("jobs:cancel", t(conv, "button.cancel")),
    ])]


def confirm(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "jobs:cancel":
        out.replies.append(say(conv, "post.cancelled"))
        return MENU
    if inp.choice != "jobs:post":
        return None
    d = conv.data
    job_id = new_id(ctx)
    until = ctx.now + opts(ctx).lifetime_s
    out.domain.append(JobPosted(
        job_id=job_id, title=d["title"], pay=d["pay"], pay_amount=d.get("pay_amount"),
        pay_period=d.get("pay_period"), lat=d["lat"], lon=d["lon"], place=d.get("place", ""),
        description=d.get("description", ""), posted_at=ctx.now, expires_at=until,
    ))
    kept.posts(conv)[job_id] = {"title": d["title"], "until": until}
    conv.deadlines[f"job_expire:{job_id}"] = until
    out.replies.append(say(conv, "post.done", days=f"{opts(ctx).lifetime_s / 86400:g}"))
    return MENU
