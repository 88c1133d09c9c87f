"""Loading domains: a domain that cannot be imported, or declares something that clashes
with the engine or another domain, is refused with one DomainError naming it; the
worker then exits 2 with that one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from schemas.domain import Event
from streams.domains import REGISTRY, paths
from streams.domains.rides.catalog import TEXTS as RIDES_TEXTS
from streams.engine.catalog import Catalog
from streams.engine.domain import Domain, DomainError, MenuEntry
from streams.engine.domains import Domains, load
from streams.engine.flows import Flow, Go, Step
from tests.domains import parrot
from wastream.config import ConfigError, Settings

REPO = Path(__file__).resolve().parents[2]
PARROT = parrot.DOMAIN


def _step() -> Step:
    return Step(prompt=lambda ctx, conv: [], accept=lambda ctx, conv, inp, out: Go("a"))


@dataclass(frozen=True, slots=True)
class Twice(Event):
    type: ClassVar[str] = "RideRequested"


@dataclass(frozen=True, slots=True)
class Bumped(Event):
    type: ClassVar[str] = "Bumped"
    version: ClassVar[int] = 3
    upcasters: ClassVar[Any] = {1: lambda d: d}  # none from 2 to 3


def _without(lang: str, key: str) -> Catalog:
    msgs = {k: dict(v) for k, v in PARROT.texts.messages.items()}  # type: ignore[union-attr]
    del msgs[lang][key]
    return Catalog(msgs)


BAD: dict[str, tuple[Callable[[], Domain], str]] = {
    "duplicate flow": (
        lambda: replace(PARROT, flows=(*PARROT.flows, Flow("rides_drivers", "a", {"a": _step()}))),
        "domain parrot: flow 'rides_drivers' is already declared",
    ),
    "engine flow name": (
        lambda: replace(PARROT, flows=(Flow("menu", "a", {"a": _step()}),), menu=()),
        "domain parrot: flow 'menu' is already declared",
    ),
    "menu entry naming an unknown flow": (
        lambda: replace(PARROT, menu=(MenuEntry("parrot", "parot"),)),
        "domain parrot: menu entry 'parrot' names unknown flow 'parot'",
    ),
    "menu entry of another domain's flow": (
        lambda: replace(PARROT, menu=(MenuEntry("parrot", "schedule"),)),
        "domain parrot: menu entry 'parrot' names unknown flow 'schedule'",
    ),
    "missing catalog key": (
        lambda: replace(PARROT, texts=_without("rw", "parrot.sent")),
        "domain parrot: catalog: rw lacks 'parrot.sent'",
    ),
    "missing menu text": (
        lambda: replace(PARROT, texts=Catalog({
            lang: {k: v for k, v in m.items() if k != "menu.parrot.desc"}
            for lang, m in PARROT.texts.messages.items()  # type: ignore[union-attr]
        })),
        "domain parrot: catalog lacks 'menu.parrot.desc' for its menu entry",
    ),
    "duplicate event type": (
        lambda: replace(PARROT, events=(*PARROT.events, Twice)),
        "domain parrot: event type 'RideRequested' is already declared by rides",
    ),
    "version without its upcaster": (
        lambda: replace(PARROT, events=(*PARROT.events, Bumped)),
        "domain parrot: event Bumped v3 has no upcaster from v2",
    ),
    "duplicate internal event type": (
        lambda: replace(PARROT, handlers={"wastream.ride.request": lambda *a: None}),
        "domain parrot: event handler for 'wastream.ride.request': taken",
    ),
    "engine internal event type": (
        lambda: replace(PARROT, handlers={"wastream.timer": lambda *a: None}),
        "domain parrot: event handler for 'wastream.timer': taken",
    ),
    "overlapping choice prefix": (
        lambda: replace(PARROT, choices={"ride:accept:": lambda *a: None}),
        "domain parrot: choice prefix 'ride:accept:' overlaps another",
    ),
    "duplicate timer kind": (
        lambda: replace(PARROT, timers={"ride_timeout": lambda *a: None}),
        "domain parrot: timer kind 'ride_timeout' is already declared",
    ),
    "kept field that is a Conv field": (
        lambda: replace(PARROT, kept=("deadlines",)),
        "domain parrot: kept field 'deadlines' is a Conv field",
    ),
    "menu longer than a WhatsApp list": (
        lambda: replace(PARROT, flows=(), menu=tuple(MenuEntry(k) for k in ("a", "b", "c")),
                        texts=Catalog({lang: {f"menu.{k}{s}": "x" for k in "abc"
                                              for s in ("", ".desc")} for lang in RIDES_LANGS})),
        "domain parrot: menu entry 'c' would make the main menu longer than a WhatsApp list",
    ),
    "menu row already on the menu": (
        lambda: replace(PARROT, flows=(), menu=(MenuEntry("jobs"),), texts=RIDES_TEXTS),
        "domain parrot: menu entry 'jobs' is already on the menu",
    ),
}
RIDES_LANGS = ("en", "fr", "rw")


@pytest.mark.parametrize("case", sorted(BAD))
def test_an_inconsistent_domain_is_refused_naming_it(case: str) -> None:
    make, message = BAD[case]
    with pytest.raises(DomainError) as err:
        Domains.of([*load(REGISTRY), make()])
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_the_registry_and_the_test_domain_load() -> None:
    domains = Domains.of([*load(REGISTRY), PARROT])
    assert [e.key for e, _ in domains.menu] == [
        "rides_drivers", "rides_passengers", "rides_schedule",
        "broker", "farmer", "jobs", "rentals", "parrot", "language",
    ]
    assert {"rides_drivers", "rides_passengers", "schedule", "parrot"} <= domains.flows.keys()
    assert "WordLearned" in domains.events
    assert domains.kept == {"ride": "rides", "pending": "rides", "trips": "rides"}


def test_a_module_that_fails_to_import_is_named() -> None:
    with pytest.raises(DomainError) as err:
        Domains.load([*REGISTRY, "tests.domains.broken_import"])
    assert str(err.value) == (
        "domain tests.domains.broken_import: cannot be imported (ImportError: cannot import "
        "name 'Domaine' from 'streams.engine.domain' "
        f"({REPO / 'streams' / 'engine' / 'domain.py'}))"
    )
    with pytest.raises(DomainError, match=r"^domain tests\.domains\.nowhere: cannot be imported "
                       r"\(ModuleNotFoundError: No module named 'tests\.domains\.nowhere'\)$"):
        Domains.load(["tests.domains.nowhere"])
    with pytest.raises(DomainError, match=r"^domain tests\.domains: declares no DOMAIN"):
        Domains.load(["tests.domains"])


def test_a_bad_option_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        Domains.load(REGISTRY, Settings.from_env({"WASTREAM_RADIUS_KM": "ten"}))
    assert str(err.value) == "WASTREAM_RADIUS_KM: must be a number > 0, got 'ten'"


def test_extra_domains_come_after_the_registry() -> None:
    assert paths(Settings.from_env({})) == list(REGISTRY)
    settings = Settings.from_env({"WASTREAM_EXTRA_DOMAINS": " tests.domains.parrot, a.b ,"})
    assert paths(settings) == [*REGISTRY, "tests.domains.parrot", "a.b"]


def _worker(extra_domains: str, **more: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTREAM_")}
    env.update(more)
    env["WASTREAM_EXTRA_DOMAINS"] = extra_domains
    # Nothing is contacted: the domains are loaded before the app is built.
    env["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9"
    return subprocess.run([sys.executable, "-m", "wastream.cli", "worker"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("module", "line"), [
    ("tests.domains.broken_import",
     "wastream worker: domain tests.domains.broken_import: cannot be imported (ImportError: "),
    ("tests.domains.clash",
     "wastream worker: domain clash: event type 'RideRequested' is already declared by rides"),
])
def test_the_worker_stops_with_one_line_and_exit_code_2(module: str, line: str) -> None:
    done = _worker(module)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(line), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_bad_domain_option_stops_the_worker_with_one_line() -> None:
    done = _worker("", WASTREAM_RADIUS_KM="ten")
    assert done.returncode == 2, done.stderr
    assert done.stderr == "WASTREAM_RADIUS_KM: must be a number > 0, got 'ten'\n"
