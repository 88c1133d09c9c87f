"""What a jobs conversation keeps across flows, in its slot of ``Conv.domains``:

- ``posts``: my open posts, job id → {title, until};
- ``apps``: applications to my posts, job id → applicant → {name, state} (state:
  ``new``, ``contacted``, ``declined``); forgotten when the post closes or expires;
- ``applied``: the jobs I applied to, job id → the post's expiry (applying twice
  changes nothing);
- ``last``: the last place I searched from, [lat, lon].
"""

from __future__ import annotations

from typing import Any

from streams.domains.jobs.options import NAME
from streams.engine.model import Conv


def posts(conv: Conv) -> dict[str, dict[str, Any]]:
    got: dict[str, dict[str, Any]] = conv.slot(NAME).setdefault("posts", {})
    return got


def apps(conv: Conv, job_id: str) -> dict[str, dict[str, Any]]:
    """Applications to my post ``job_id``, by applicant; changes are kept."""
    got: dict[str, dict[str, Any]] = conv.slot(NAME).setdefault("apps", {}).setdefault(
        job_id, {})
    return got


def forget_post(conv: Conv, job_id: str) -> dict[str, Any] | None:
    """Drop my post ``job_id`` and its applications; the post as it was, if open."""
    slot = conv.slot(NAME)
    slot.get("apps", {}).pop(job_id, None)
    conv.deadlines.pop(f"job_expire:{job_id}", None)
    got: dict[str, Any] | None = slot.get("posts", {}).pop(job_id, None)
    return got


def applied(conv: Conv, now: float) -> dict[str, float]:
    """The jobs I applied to that are still open (expired ones are forgotten)."""
    slot = conv.slot(NAME)
    slot["applied"] = {k: v for k, v in slot.get("applied", {}).items() if v > now}
    got: dict[str, float] = slot["applied"]
    return got


def last_spot(conv: Conv) -> list[float] | None:
    got: list[float] | None = conv.domains.get(NAME, {}).get("last")
    return got


def set_last_spot(conv: Conv, lat: float, lon: float) -> None:
    conv.slot(NAME)["last"] = [lat, lon]
