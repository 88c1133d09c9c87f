"""``broker_vendor`` ("List my business"): a vendor registers (name, services, location),
updates, pauses or resumes their listing; and ``wastream.broker.import``, a row of
``wastream vendors import`` delivered to the vendor's own conversation.

Both paths end in the vendor's conversation, which keeps its business in the broker's
slot (``vendor``): an import and the vendor's own changes are ordered on one partition,
and an import that changes nothing emits nothing (a re-import is a no-op however long
after).
"""

from __future__ import annotations

from typing import Any

from streams.domains.broker.catalog import say, t
from streams.domains.broker.events import VendorPaused, VendorRegistered, VendorResumed
from streams.domains.broker.options import NAME
from streams.domains.broker.prompts import category_list, category_name, picked_category, place_of
from streams.engine import messages as m
from streams.engine.flows import Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out
from streams.engine.sessions import heard

FLOW_NAME = "broker_vendor"
MENU_QUIET = Go(step="main", flow="menu", prompt=False)


def business(conv: Conv) -> dict[str, Any] | None:
    """The vendor's registered business, if any."""
    got = conv.slot(NAME).get("vendor") if NAME in conv.domains else None
    return got if isinstance(got, dict) else None


def _names(cats: list[str], lang: str) -> str:
    return ", ".join(category_name(c, lang) for c in cats)


def _start_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    b = business(conv)
    if b is None:
        return [say(conv, "vendor.name.ask")]
    paused = bool(b.get("paused"))
    status = t(conv, "vendor.status.paused" if paused else "vendor.status.active")
    toggle = ("vendor:resume", "vendor.resume") if paused else ("vendor:pause", "vendor.pause")
    return [m.buttons_body(conv.wa_id, t(conv, "vendor.manage.body", name=b["name"],
                                         status=status, categories=_names(b["categories"],
                                                                          conv.lang)),
                           [m.Option("vendor:update", t(conv, "vendor.update")),
                            m.Option(toggle[0], t(conv, toggle[1]))])]


def _start(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    b = business(conv)
    if b is None:
        return _name(ctx, conv, inp, out)
    if inp.choice == "vendor:update":
        return Go(step="name")
    if inp.choice in ("vendor:pause", "vendor:resume"):
        pause = inp.choice == "vendor:pause"
        if bool(b.get("paused")) != pause:
            out.domain.append(VendorPaused() if pause else VendorResumed())
            b["paused"] = pause
        out.replies.append(say(conv, "vendor.paused" if pause else "vendor.resumed",
                               name=b["name"]))
        return MENU_QUIET
    return None


def _name(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    name = inp.text.strip()
    if inp.kind != "text" or not 2 <= len(name) <= 60:
        return None
    return Go(step="categories", data={"name": name, "categories": []})


def _ask_categories(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [category_list(conv, "vendor.categories.body")]


def _categories(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    cat = picked_category(inp)
    if cat is None:
        u = heard(ctx, conv)
        cat = u.category if u is not None else None
    if cat is None:
        return None
    cats = [c for c in conv.data.get("categories", []) if c != cat] + [cat]
    return Go(step="more", data={"categories": cats})


def _ask_more(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.buttons_body(conv.wa_id, t(conv, "vendor.more.body", categories=_names(
        conv.data.get("categories", []), conv.lang)),
        [m.Option("vendor:more", t(conv, "vendor.more.add")),
         m.Option("vendor:done", t(conv, "vendor.more.done"))])]


def _more(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if inp.choice == "vendor:more":
        return Go(step="categories")
    if inp.choice == "vendor:done":
        return Go(step="location")
    return None


def _ask_location(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [m.location_request_body(conv.wa_id, t(conv, "vendor.location.ask"))]


def _location(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    where = place_of(inp)
    if where is None:
        return None
    lat, lon, _, district = where
    row = {"name": conv.data["name"], "categories": conv.data["categories"], "lat": lat,
           "lon": lon, "district": district}
    register(conv, row, "whatsapp", out)
    out.replies.append(say(conv, "vendor.listed", name=row["name"],
                           categories=_names(row["categories"], conv.lang)))
    return MENU_QUIET


def register(conv: Conv, row: dict[str, Any], source: str, out: Out) -> bool:
    """Keep the business and emit ``VendorRegistered`` unless nothing changed."""
    old = business(conv)
    kept = {k: (old or {}).get(k) for k in ("name", "categories", "lat", "lon")}
    new = {k: row[k] for k in ("name", "categories", "lat", "lon")}
    if old is not None and kept == new:
        return False
    conv.slot(NAME)["vendor"] = {**new, "paused": bool((old or {}).get("paused"))}
    out.domain.append(VendorRegistered(name=row["name"], categories=tuple(row["categories"]),
                                       lat=row["lat"], lon=row["lon"], source=source,
                                       district=row.get("district", "")))
    return True


def on_import(ctx: Ctx, conv: Conv, p: dict[str, Any], out: Out) -> Go | None:
    """A row of ``wastream vendors import`` for this vendor (no message to the vendor)."""
    register(conv, {"name": str(p["name"]), "categories": [str(c) for c in p["categories"]],
                    "lat": float(p["lat"]), "lon": float(p["lon"]),
                    "district": str(p.get("district", ""))}, "import", out)
    return None


FLOW = Flow(
    name=FLOW_NAME,
    start="start",
    steps={
        "start": Step(_start_prompt, _start),
        "name": Step(lambda ctx, conv: [say(conv, "vendor.name.ask")], _name),
        "categories": Step(_ask_categories, _categories, understand=True),
        "more": Step(_ask_more, _more),
        "location": Step(_ask_location, _location),
    },
)
