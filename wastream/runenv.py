"""``.wastream/env``: the settings ``wastream run`` generated (the per-run app secret, the
stand-in Graph API's URL and token …), so that ``wastream chat``, ``demo``, ``dlq`` and the
rest, started in another shell, talk to that system without copying them by hand.

Written by ``wastream run`` when its services start (mode 0600), removed when it stops;
read by the one-shot commands (``wastream.cli``, through
``wastream.config.settings.adopt``), under the process environment (a variable set in the
shell wins). One ``NAME=value`` per line, shell-quoted, so ``set -a; . .wastream/env``
works too.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

FILE_NAME = "env"


def env_file(home: Path) -> Path:
    return home / FILE_NAME


def write(path: Path, values: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# written by `wastream run`; removed when it stops\n")
        for name, value in sorted(values.items()):
            out.write(f"{name}={shlex.quote(value)}\n")
    tmp.replace(path)


def read(path: Path) -> dict[str, str]:
    """The file's variables ({} when there is none)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, raw = line.partition("=")
        if sep:
            parts = shlex.split(raw)
            out[name.strip()] = parts[0] if parts else ""
    return out


