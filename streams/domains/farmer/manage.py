"""``farmer_listings`` ("My listings"): the farmer picks one of their open listings and
updates the quantity left (``ProduceUpdated``) or closes it (``ProduceClosed``)."""

from __future__ import annotations

from typing import Any

from streams.domains.farmer.catalog import say, t
from streams.domains.farmer.events import ProduceClosed, ProduceUpdated
from streams.domains.farmer.prompts import crop_name, days_left, shown, unit_list
from streams.domains.farmer.sell import listings, read_quantity
from streams.engine import messages as m
from streams.engine.flows import Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out
from streams.listings import Quantity

FLOW_NAME = "farmer_listings"
MENU_QUIET = Go(step="main", flow="menu", prompt=False)


def _chosen(ctx: Ctx, conv: Conv) -> dict[str, Any] | None:
    return listings(conv, ctx.now).get(str(conv.data.get("listing", "")))


def _ask_pick(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    mine = sorted(listings(conv, ctx.now).items(), key=lambda kv: -kv[1]["expires_at"])
    if not mine:
        return [say(conv, "mine.none")]
    rows = []
    for lid, x in mine[:m.MAX_ROWS]:
        f = shown(x, conv.lang)
        rows.append(m.Option(f"mine:{lid}", f["crop"], t(
            conv, "mine.row.desc", quantity=f["quantity"], unit=f["unit"], price=f["price"],
            per=f["per"], days=days_left(x["expires_at"], ctx.now))))
    return [m.list_body(conv.wa_id, t(conv, "mine.body"), t(conv, "mine.button"), rows,
                        section=t(conv, "mine.button"))]


def _pick(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    if not listings(conv, ctx.now):
        return Go(step="main", flow="menu")  # "mine.none" was said
    lid = inp.choice.removeprefix("mine:")
    if not inp.choice.startswith("mine:") or lid not in listings(conv, ctx.now):
        return None
    return Go(step="manage", data={"listing": lid})


def _ask_manage(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    x = _chosen(ctx, conv)
    if x is None:
        return [say(conv, "interest.gone")]
    return [m.buttons_body(conv.wa_id, t(conv, "manage.body", **shown(x, conv.lang)), [
        m.Option("manage:qty", t(conv, "manage.qty")),
        m.Option("manage:close", t(conv, "manage.close"))])]


def _manage(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    x = _chosen(ctx, conv)
    if x is None:
        return Go(step="pick")
    if inp.choice == "manage:qty":
        return Go(step="quantity")
    if inp.choice == "manage:close":
        lid = str(conv.data["listing"])
        out.domain.append(ProduceClosed(listing_id=lid))
        del listings(conv, ctx.now)[lid]
        out.replies.append(say(conv, "closed", crop=crop_name(x["crop"], conv.lang)))
        return MENU_QUIET
    return None


def _ask_quantity(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    x = _chosen(ctx, conv)
    return [say(conv, "manage.qty.ask", crop=crop_name(x["crop"] if x else "", conv.lang))]


def _quantity(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    x = _chosen(ctx, conv)
    if x is None:
        return Go(step="pick")
    q = read_quantity(inp, out, conv)
    if not isinstance(q, Quantity):
        return q  # a bare number: its units to pick (step "unit"); else asked again
    lid = str(conv.data["listing"])
    out.domain.append(ProduceUpdated(listing_id=lid, quantity=q.amount, unit=q.unit.value))
    x.update(quantity=q.amount, unit=q.unit.value)
    f = shown(x, conv.lang)
    out.replies.append(say(conv, "updated", quantity=f["quantity"], unit=f["unit"],
                           crop=f["crop"]))
    return MENU_QUIET


def _ask_unit(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [unit_list(conv, float(conv.data.get("bare", 1)))]


FLOW = Flow(
    name=FLOW_NAME,
    start="pick",
    steps={
        "pick": Step(_ask_pick, _pick),
        "manage": Step(_ask_manage, _manage),
        "quantity": Step(_ask_quantity, _quantity),
        "unit": Step(_ask_unit, _quantity),
    },
)
