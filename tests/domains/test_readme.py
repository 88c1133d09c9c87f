"""The guide (``streams/domains/README.md``) stays true: its code is the test domain's
code, and its option tables list every option group of the registry's domains."""

from __future__ import annotations

import re
from pathlib import Path

from streams.domains import REGISTRY
from streams.engine.domains import load
from wastream.config.components import component_groups

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "streams" / "domains" / "README.md"
PARROT = ROOT / "tests" / "domains" / "parrot"


def _blocks(text: str) -> list[list[str]]:
    return [b.splitlines() for b in re.findall(r"```python\n(.*?)```", text, re.S)]


def test_every_snippet_is_the_test_domains_code() -> None:
    source = {line for p in PARROT.glob("*.py") for line in p.read_text().splitlines()}
    blocks = _blocks(README.read_text())
    assert len(blocks) >= 6
    for block in blocks:
        assert [line for line in block if line.strip() and line not in source] == []


def test_every_domain_option_is_in_the_configuration_tables() -> None:
    """A domain's option group reaches `wastream config` and the README's generated
    tables (tests/unit/test_settings.py checks the tables equal the model)."""
    groups = [d.options for d in load(REGISTRY) if d.options]
    assert groups
    assert set(groups) <= set(component_groups())
    readme = (ROOT / "README.md").read_text()
    for g in groups:
        for var, _, _ in g.env_fields():
            assert f"| `{var}` |" in readme, var
