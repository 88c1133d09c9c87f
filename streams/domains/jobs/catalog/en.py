"""English texts of the jobs domain. Keys are shared by every language; ``{name}``
fields are filled at render."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.jobs": "Jobs",
    "menu.jobs.desc": "Post or find jobs",
    "home.body": "Jobs: post a job, find jobs near you, or see your posts.",
    "button.post_job": "Post a job",
    "button.find": "Find jobs",
    "button.mine": "My jobs",
    "button.skip": "Skip",
    "button.post": "Post",
    "button.cancel": "Cancel",
    "button.last": "Use last location",
    "button.apply": "Apply",
    "button.contact": "Contact",
    "button.decline": "Decline",
    "button.close": "Close the post",
    "button.keep": "Keep it open",
    "post.title": "What is the job? Type a short title (at most {max} characters), "
                  "e.g. Cook at a restaurant.",
    "post.pay": "What does it pay? Type the amount and, if you can, the period, "
                "e.g. 5000 per day or 150k/month.",
    "post.place": "Where is the job? Share its location, or type the district or sector "
                  "(e.g. Kicukiro).",
    "post.description": "Add a short description (at most {max} characters), or tap Skip.",
    "post.pinned": "the location you shared",
    "post.confirm": "Post this job for {days} days?\n{title}\nPay: {pay}\nWhere: {place}",
    "post.done": "Your job is posted. It stays open {days} days; you will be told when "
                 "someone applies.",
    "post.cancelled": "Nothing was posted.",
    "find.where": "Where are you? Share your location, or type your district or sector.",
    "find.last": "Or search again from your last location.",
    "find.none": "No open jobs within {radius} km right now. Try again later.",
    "find.body": "{count} open jobs near you, nearest first. Pick one to see it.",
    "find.button": "Jobs",
    "find.row": "{pay} · {km} km",
    "detail.body": "{title}\nPay: {pay}\nDistance: {km} km",
    "detail.place": "Where: {place}",
    "apply.sent": "You applied to {title}. The employer will answer here.",
    "apply.again": "You already applied to {title}.",
    "apply.gone": "This job is no longer open.",
    "applied.poster": "{name} applied to your job {title}.",
    "applied.gone": "This application is no longer open.",
    "contact.poster": "Contact {name} on WhatsApp: {link}",
    "decline.poster": "You declined {name}.",
    "answer.contacted": "The employer for {title} wants to talk to you: {link}",
    "answer.declined": "Your application to {title} was not taken further.",
    "answer.closed": "The job {title} is no longer open.",
    "mine.none": "You have no open job posts.",
    "mine.body": "Your {count} open job posts. Pick one to close it.",
    "mine.button": "My jobs",
    "mine.row": "{count} applicants · {days} days left",
    "manage.body": "{title}: {count} applicants. Close this post?",
    "manage.closed": "{title} is closed and no longer shown.",
    "expired": "Your job post {title} has expired and is no longer shown.",
}
