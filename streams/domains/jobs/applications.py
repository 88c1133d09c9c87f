"""Applications travelling between an applicant's and a poster's conversations, and
the end of a post's life.

- ``wastream.jobs.applied`` (applicant → poster): the poster sees the applicant's
  WhatsApp name with Contact / Decline (``jobapp:<contact|decline>:<job>:<applicant>``,
  valid whatever flow the poster is in by then); a second one for the same applicant
  and job changes nothing;
- ``wastream.jobs.answer`` (poster → applicant): contacted (with the poster's wa.me
  link), declined, or closed (the post was no longer open);
- the ``job_expire:<id>`` deadline of the poster's conversation emits ``JobExpired``.
"""

from __future__ import annotations

from typing import Any

from streams.domains.jobs import kept
from streams.domains.jobs.catalog import say, t
from streams.domains.jobs.events import ApplicantContacted, ApplicantDeclined, JobExpired
from streams.domains.jobs.templates import ANSWER, APPLIED, EXPIRED
from streams.engine import messages as m
from streams.engine.domain import ChoiceHandler, EventHandler
from streams.engine.flows import Go, TimerHandler
from streams.engine.model import Conv, Ctx, Input, Out
from streams.listings.conversation import wa_link


def on_applied(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Poster side: someone applied to my post."""
    job_id, applicant = str(p["job_id"]), str(p["applicant"])
    post = kept.posts(conv).get(job_id)
    if post is None or post["until"] <= ctx.now:
        out.internal.append((applicant, "wastream.jobs.answer",
                             {"job_id": job_id, "title": p.get("title", ""),
                              "outcome": "closed"}))
        return None
    apps = kept.apps(conv, job_id)
    if applicant in apps:
        return None  # applied twice: the poster was told once
    apps[applicant] = {"name": str(p.get("name", "")), "state": "new"}
    contact, decline = (f"jobapp:{what}:{job_id}:{applicant}" for what in ("contact", "decline"))
    reply = m.buttons_body(
        conv.wa_id, t(conv, "applied.poster", name=p.get("name", ""), title=post["title"]),
        [m.Option(contact, t(conv, "button.contact")),
         m.Option(decline, t(conv, "button.decline"))])
    ref = APPLIED.ref(p.get("name", ""), post["title"], buttons=(contact, decline))
    out.replies.append(m.templated(reply, ref, conv.lang))
    return None


def poster_answer(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    """Poster side: the Contact / Decline tap on an application."""
    parts = inp.choice.split(":", 3)
    if len(parts) != 4 or parts[1] not in ("contact", "decline"):
        out.replies.append(say(conv, "applied.gone"))
        return None
    _, what, job_id, applicant = parts
    post = kept.posts(conv).get(job_id)
    app = kept.apps(conv, job_id).get(applicant) if post else None
    if post is None or app is None or app["state"] != "new":
        out.replies.append(say(conv, "applied.gone"))
        return None
    if what == "contact":
        app["state"] = "contacted"
        out.domain.append(ApplicantContacted(job_id=job_id, poster=conv.wa_id,
                                             applicant=applicant))
        out.replies.append(say(conv, "contact.poster", name=app["name"],
                               link=wa_link(applicant)))
        payload = {"job_id": job_id, "title": post["title"], "outcome": "contacted",
                   "link": wa_link(conv.wa_id)}
    else:
        app["state"] = "declined"
        out.domain.append(ApplicantDeclined(job_id=job_id, poster=conv.wa_id,
                                            applicant=applicant))
        out.replies.append(say(conv, "decline.poster", name=app["name"]))
        payload = {"job_id": job_id, "title": post["title"], "outcome": "declined"}
    out.internal.append((applicant, "wastream.jobs.answer", payload))
    return None


def on_answer(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Applicant side: the poster's answer (or the post was closed)."""
    outcome = str(p.get("outcome"))
    key = {"contacted": "answer.contacted", "declined": "answer.declined"}.get(
        outcome, "answer.closed")
    reply = say(conv, key, title=p.get("title", ""), link=p.get("link", ""))
    news = str(reply["text"]["body"])
    out.replies.append(m.templated(reply, ANSWER.ref(p.get("title", ""), news), conv.lang))
    return None


def on_expire(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """Poster side: my post's lifetime ended."""
    job_id = str(p["kind"]).split(":", 1)[1]
    post = kept.forget_post(conv, job_id)
    if post is not None:
        out.domain.append(JobExpired(job_id=job_id))
        out.replies.append(m.templated(say(conv, "expired", title=post["title"]),
                                       EXPIRED.ref(post["title"]), conv.lang))
    return None


HANDLERS: dict[str, EventHandler] = {
    "wastream.jobs.applied": on_applied,
    "wastream.jobs.answer": on_answer,
}
TIMERS: dict[str, TimerHandler] = {"job_expire": on_expire}
CHOICES: dict[str, ChoiceHandler] = {"jobapp:": poster_answer}
