"""Jobs · find jobs near me: a place (shared, typed, or the last one) → up to 10 open
jobs within the radius, nearest first then newest → a job's details → Apply.

Applying sends ``wastream.jobs.applied`` to the poster's conversation (on its own
partition), which asks the poster to Contact or Decline (``applications``)."""

from __future__ import annotations

from typing import Any

from streams.domains.jobs import kept
from streams.domains.jobs.catalog import say, t
from streams.domains.jobs.events import JobApplied
from streams.domains.jobs.index import jobs
from streams.domains.jobs.options import opts
from streams.engine import messages as m
from streams.engine.common import haversine_km, km
from streams.engine.flows import MENU, Go
from streams.engine.model import Conv, Ctx, Input, Out
from streams.listings import Hit, Listing
from streams.listings.conversation import read_spot, sender_name


def where_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    asks = [m.location_request_body(conv.wa_id, t(conv, "find.where"))]
    if kept.last_spot(conv):
        asks.append(m.buttons_body(conv.wa_id, t(conv, "find.last"),
                                   [m.Option("jobs:last", t(conv, "button.last"))]))
    return asks


def where(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    last = kept.last_spot(conv)
    if inp.choice == "jobs:last" and last:
        lat, lon = last
    else:
        spot = read_spot(inp)
        if spot is None:
            return None
        lat, lon = spot.lat, spot.lon
        kept.set_last_spot(conv, lat, lon)
    conv.data.update(lat=lat, lon=lon)
    return _results(ctx, conv, out)


def _results(ctx: Ctx, conv: Conv, out: Out) -> Go:
    found = jobs(ctx).near(conv.data["lat"], conv.data["lon"], ctx.now, exclude=conv.wa_id)
    if not found:
        out.replies.append(say(conv, "find.none", radius=f"{opts(ctx).radius_km:g}"))
        return MENU
    out.replies.append(m.list_body(
        conv.wa_id, t(conv, "find.body", count=len(found)), t(conv, "find.button"),
        [_row(conv, hit) for hit in found], section=t(conv, "find.button")))
    return Go(step="results", data={"listed": [h.listing.id for h in found]}, prompt=False)


def _row(conv: Conv, hit: Hit) -> m.Option:
    f = hit.listing.fields
    desc = t(conv, "find.row", pay=_clip(str(f["pay"]), 50), km=km(hit.km))
    return m.Option(f"job:{hit.listing.id}", _clip(str(f["title"]), m.MAX_ROW_TITLE), desc)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def results_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    out = Out()
    go = _results(ctx, conv, out)
    conv.data.update(go.data)
    return out.replies


def results(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    listed: list[str] = conv.data.get("listed") or []
    job_id = inp.choice.removeprefix("job:") if inp.choice.startswith("job:") else ""
    if not job_id and inp.word.isdigit() and 1 <= int(inp.word) <= len(listed):
        job_id = listed[int(inp.word) - 1]
    if job_id not in listed:
        return None
    job = jobs(ctx).get(job_id)
    if job is None or not job.live(ctx.now):
        out.replies.append(say(conv, "apply.gone"))
        return _results(ctx, conv, out)
    out.replies.append(_details(ctx, conv, job))
    return Go(step="detail", data={"job": job_id}, prompt=False)


def _details(ctx: Ctx, conv: Conv, job: Listing) -> dict[str, Any]:
    f = job.fields
    dist = haversine_km(conv.data["lat"], conv.data["lon"], job.lat, job.lon)
    text = t(conv, "detail.body", title=f["title"], pay=f["pay"], km=km(dist))
    if f.get("place"):
        text += "\n" + t(conv, "detail.place", place=f["place"])
    if f.get("description"):
        text += "\n\n" + str(f["description"])
    return m.buttons_body(conv.wa_id, text, [m.Option(f"jobs:apply:{job.id}",
                                                      t(conv, "button.apply"))])


def detail_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    job = jobs(ctx).get(conv.data.get("job", ""))
    if job is None or not job.live(ctx.now):
        return [say(conv, "apply.gone")]
    return [_details(ctx, conv, job)]


def detail(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """The Apply tap: once per job; the poster is told with my WhatsApp name."""
    job_id = conv.data.get("job", "")
    if inp.choice != f"jobs:apply:{job_id}":
        return None
    job = jobs(ctx).get(job_id)
    if job is None or not job.live(ctx.now):
        out.replies.append(say(conv, "apply.gone"))
        return MENU
    done = kept.applied(conv, ctx.now)
    if job_id in done:
        out.replies.append(say(conv, "apply.again", title=job.fields["title"]))
        return MENU
    done[job_id] = job.expires_at
    name = sender_name(ctx, f"+{conv.wa_id}")
    out.domain.append(JobApplied(job_id=job_id, poster=job.owner, applicant=conv.wa_id,
                                 name=name))
    out.internal.append((job.owner, "wastream.jobs.applied", {
        "job_id": job_id, "title": job.fields["title"], "applicant": conv.wa_id, "name": name,
    }))
    out.replies.append(say(conv, "apply.sent", title=job.fields["title"]))
    return MENU
