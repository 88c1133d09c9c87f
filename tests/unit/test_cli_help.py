"""Every sub-command answers --help with a description (the CLI is the operator's manual)."""

from __future__ import annotations

import contextlib
import io

import pytest

from wastream.cli import build_parser

COMMANDS = [
    "dev",
    "config",
    "topics",
    "migrate",
    "ingress",
    "worker",
    "project",
    "run",
    "demo",
    "chat",
    "dlq",
    "graph-stub",
    "agent-stub",
    "replay",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_sub_command_has_a_useful_help(command: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"])
    assert done.value.code == 0
    text = out.getvalue()
    assert text.startswith(f"usage: wastream {command}")
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 5, text


def test_the_top_level_help_lists_every_sub_command() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    for command in COMMANDS:
        assert command in out.getvalue()
