"""Option groups that components bring (a business domain's options): how they join
``wastream config``, the README's table and the worker's start-up check.

A component declares a :class:`~wastream.config.Group` subclass (its own ``section``,
``title``, and fields each with ``alias`` = the variable, a default, constraints and a
``description``), reads it with ``settings.options(MyGroup)``, and is listed by a
provider module below, which exposes ``option_groups() -> tuple[type[Group], ...]``
(a function: a provider may have to import its components to list them). The
domain registry (``streams.domains``) is that provider for every domain.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from wastream.config.base import Group
from wastream.config.groups import CORE_GROUPS

# Modules whose ``option_groups()`` extend the settings. Named, not imported, here: the
# configuration model sits below every service and must not import one.
PROVIDERS: tuple[str, ...] = ("streams.domains",)


def component_groups(providers: Sequence[str] = PROVIDERS) -> list[type[Group]]:
    """Every provider's option groups, in provider order. A provider without
    ``option_groups()``, or two groups claiming one variable, is an error, not a gap."""
    groups: list[type[Group]] = []
    for name in providers:
        module = importlib.import_module(name)
        provider = getattr(module, "option_groups", None)
        if provider is None:
            raise TypeError(f"{name} declares no option_groups()")
        declared: tuple[type[Group], ...] = provider()
        groups.extend(declared)
    _check_unique([*CORE_GROUPS, *groups])
    return groups


def _check_unique(groups: Sequence[type[Group]]) -> None:
    owner: dict[str, str] = {}
    sections: set[str] = set()
    for g in groups:
        if g.section in sections:
            raise TypeError(f"two option groups are named {g.section!r}")
        sections.add(g.section)
        for var, _, _ in g.env_fields():
            if var in owner:
                raise TypeError(f"{var} is claimed by both [{owner[var]}] and [{g.section}]")
            owner[var] = g.section
