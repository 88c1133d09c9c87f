"""The engine, the agent and the worker name no business domain: no module of
``streams/`` outside ``streams/domains/`` says ride, driver, passenger or trip (as a
word, in any case, in code, strings, comments or docstrings; identifiers are split
at underscores and capitals, so ``RidesIndex`` and ``ride_timeout_s`` count)."""

from __future__ import annotations

import re
from pathlib import Path

STREAMS = Path(__file__).resolve().parents[2] / "streams"
FORBIDDEN = {"ride", "rides", "driver", "drivers", "passenger", "passengers", "trip", "trips"}
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def named(text: str) -> list[str]:
    """The forbidden words ``text`` uses."""
    return [w for w in _WORD.findall(text) if w.lower() in FORBIDDEN]


def test_the_word_check_sees_identifiers_strings_and_prose() -> None:
    assert named('from streams.domains.rides.index import RidesIndex') == ["rides", "Rides"]
    assert named('inp.choice.startswith("ride:")') == ["ride"]
    assert named("conv.trips; ctx.nearby.drivers(); DriverOffline") == [
        "trips", "drivers", "Driver"]
    assert named("RIDE_TIMEOUT_S, rides_requests, Passengers") == [
        "RIDE", "rides", "Passengers"]
    assert named("override, stripped, tripwire, overriden, drivetrain") == []


def test_no_module_outside_the_domains_names_one() -> None:
    found = []
    for path in sorted(STREAMS.rglob("*")):
        rel = path.relative_to(STREAMS)
        # Python modules and their docs; a data file (the understanding's catalog of
        # service categories, which has drivers for hire) is vocabulary, not the engine.
        if rel.parts[0] == "domains" or not path.is_file() or path.suffix not in (".py", ".md"):
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if named(line):
                found.append(f"streams/{rel}:{n}: {line.strip()}")
    assert found == []
    assert (STREAMS / "engine" / "process.py").is_file()  # the scan looked at the engine
