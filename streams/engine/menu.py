"""The main menu (assembled from the domains' entries) and the language choice."""

from __future__ import annotations

from typing import Any

from streams.engine import messages as m
from streams.engine.catalog import LANGUAGE_NAMES
from streams.engine.common import say, t
from streams.engine.flows import MENU, Flow, Go, Step
from streams.engine.model import Conv, Ctx, Input, Out


def menu_body(ctx: Ctx, conv: Conv, intro: str | None = None) -> dict[str, Any]:
    """The main menu: every domain's entries in registry order, then the language."""
    opts = [
        m.Option(
            f"menu:{e.key}", texts.t(conv, f"menu.{e.key}"), texts.t(conv, f"menu.{e.key}.desc")
        )
        for e, texts in ctx.domains.menu
    ]
    body = t(conv, "menu.body") if intro is None else f"{intro}\n\n{t(conv, 'menu.body')}"
    return m.list_body(
        conv.wa_id,
        body,
        t(conv, "menu.button"),
        opts,
        header=t(conv, "menu.header"),
        section=t(conv, "menu.section"),
    )


def _menu_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    return [menu_body(ctx, conv)]


def _menu_accept(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    entries = [e for e, _ in ctx.domains.menu]
    key = inp.choice.removeprefix("menu:") if inp.choice.startswith("menu:") else ""
    if not key and inp.word.isdigit() and 1 <= int(inp.word) <= len(entries):
        key = entries[int(inp.word) - 1].key
    for entry in entries:
        if entry.key == key:
            if entry.flow is None:  # a service not built yet
                out.replies.append(say(conv, "soon"))
                return MENU
            return Go(step=ctx.domains.flows[entry.flow].start, flow=entry.flow)
    if inp.kind == "text":
        return MENU  # a greeting or anything typed at the menu shows the menu again
    return None


MENU_FLOW = Flow(
    name="menu", start="main", steps={"main": Step(prompt=_menu_prompt, accept=_menu_accept)}
)


def _lang_prompt(ctx: Ctx, conv: Conv) -> list[dict[str, Any]]:
    opts = [m.Option(f"lang:{code}", name) for code, name in LANGUAGE_NAMES.items()]
    return [m.buttons_body(conv.wa_id, t(conv, "lang.body"), opts)]


def _lang_accept(ctx: Ctx, conv: Conv, inp: Input, out: Out) -> Go | None:
    code = inp.choice.removeprefix("lang:") if inp.choice.startswith("lang:") else inp.word
    names = {n.casefold(): c for c, n in LANGUAGE_NAMES.items()}
    code = names.get(code, code)
    if code not in LANGUAGE_NAMES:
        return None
    conv.lang = code
    out.replies.append(say(conv, "lang.set"))
    return MENU


LANGUAGE_FLOW = Flow(
    name="language",
    start="choose",
    steps={"choose": Step(prompt=_lang_prompt, accept=_lang_accept)},
)
