"""A domain module that fails to import (a typo in a name it imports): loading it must
stop the worker with one line, never leave the menu silently."""

from __future__ import annotations

from streams.engine.domain import Domaine  # type: ignore[attr-defined]  # the typo, on purpose

DOMAIN = Domaine(name="broken")
