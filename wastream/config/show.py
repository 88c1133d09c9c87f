"""``wastream config``: the effective settings with secrets masked, and the README's
configuration tables, both written from the groups themselves."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import SecretStr

from wastream.config.base import Group, accepts, as_env, shown_default
from wastream.config.groups import CORE_GROUPS
from wastream.config.settings import Settings

MASK = "****"
BEGIN_TAG = "<!-- settings:begin"
BEGIN = (f"{BEGIN_TAG} (generated from wastream/config by `wastream config --readme "
         "README.md`; tests/unit/test_settings.py fails when it differs) -->")
END = "<!-- settings:end -->"

# user:password@ in a URL, and password=... in its query string (libpq accepts both).
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*(?P<at>@)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)[^&\s]*", re.I)


def mask(value: object) -> str:
    """A value as ``wastream config`` shows it: secrets as ``****``, a password inside a
    URL masked, the rest as the variable would be written."""
    if isinstance(value, SecretStr):
        return MASK
    text = as_env(value)
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}\g<at>", text)
    return _QUERY_PASSWORD.sub(rf"\g<head>{MASK}", text)


def render_text(settings: Settings, components: Sequence[type[Group]] = ()) -> str:
    """Every setting, grouped, as ``NAME  value`` (``(default)`` when not set)."""
    groups = [*settings.core_groups(), *(settings.options(g) for g in components)]
    width = max(len(var) for g in groups for var, _, _ in g.env_fields())
    lines: list[str] = []
    for group in groups:
        if lines:
            lines.append("")
        lines.append(f"[{group.section}] {_plain(group.title)}")
        for var, attr, _ in group.env_fields():
            value = getattr(group, attr)
            if value is None or value == "":
                shown = "(unset)"
            else:
                shown = mask(value) + ("" if settings.env.get(var) else "  (default)")
            lines.append(f"  {var:<{width}}  {shown}")
    return "\n".join(lines) + "\n"


def _plain(title: str) -> str:
    return title.replace("`", "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(groups: Iterable[type[Group]]) -> str:
    """One table per group: variable, default, what it accepts, what it does."""
    out: list[str] = []
    for g in groups:
        out += [f"### {g.title}", "", "| variable | default | accepts | meaning |",
                "| --- | --- | --- | --- |"]
        for var, _, info in g.env_fields():
            out.append(f"| `{var}` | {_cell(shown_default(info))} | {_cell(accepts(info))} | "
                       f"{_cell(info.description or '')} |")
        out.append("")
    return "\n".join(out)


def readme_block(components: Sequence[type[Group]] = ()) -> str:
    """The README's configuration section between its markers, markers included."""
    return f"{BEGIN}\n\n{render_markdown([*CORE_GROUPS, *components])}\n{END}"


def replace_readme_block(readme: str, block: str) -> str:
    """``readme`` with its block (markers included) replaced by ``block``."""
    start, end = readme.find(BEGIN_TAG), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no '{BEGIN_TAG} -->' ... '{END}' markers")
    return readme[:start] + block + readme[end + len(END):]


def readme_table(readme: str) -> str:
    """The README's current block (markers included), or '' when it has none."""
    start, end = readme.find(BEGIN_TAG), readme.find(END)
    return readme[start:end + len(END)] if 0 <= start < end else ""
