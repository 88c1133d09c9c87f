"""``wastream templates check``: the shipped template catalog (every loaded domain's
``Domain.templates``) against Meta's rules (streams.engine.templates); exit 1 with one
line per problem. ``sync`` (creating them in the WhatsApp Business Account) is not
built yet (decision 0015)."""

from __future__ import annotations

import argparse
from typing import Any

from streams.engine.templates import Template, check


def shipped() -> list[Template]:
    """Every template of the registry's domains, in registry order."""
    from streams.domains import REGISTRY
    from streams.engine.domains import load

    return [t for d in load(REGISTRY) for t in d.templates]


def _check(args: argparse.Namespace) -> int:
    templates = shipped()
    found = check(templates)
    for line in found:
        print(line)
    if not found:
        print(f"{len(templates)} templates, each in {', '.join(('en', 'fr', 'rw'))}: "
              "no problem found")
    return 1 if found else 0


def add_parser(sub: Any) -> None:
    tpl = sub.add_parser("templates", help="the WhatsApp message templates of the domains")
    tsub = tpl.add_subparsers(dest="templates_command", required=True, metavar="COMMAND")
    chk = tsub.add_parser("check", help="check the shipped catalog against Meta's rules")
    chk.set_defaults(func=_check)
