"""Reproducible installs: the lock files pin what pyproject.toml asks for, lint tools and
Faust are bounded, the dev Kafka is a 4.x release, and the licence is declared."""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+) \\$", re.MULTILINE)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, Version]:
    text = path.read_text()
    pins = {_norm(n): Version(v) for n, v in PIN.findall(text)}
    # --generate-hashes: every pin carries hashes, or pip's --require-hashes refuses it.
    assert text.count("==") == len(pins)
    assert text.count("--hash=sha256:") >= len(pins)
    return pins


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))])
def test_lock_pins_every_dependency_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins = locked(REPO / lock)
    project = PYPROJECT["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    for req in wanted:
        name = _norm(req.name)
        assert name in pins, f"{req.name} is not in {lock}: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {req.name}=={pins[name]}, outside {req.specifier}: run `make lock`")


def test_lint_tools_exact_and_faust_bounded() -> None:
    project = PYPROJECT["project"]
    dev = {_norm(Requirement(r).name): Requirement(r)
           for r in project["optional-dependencies"]["dev"]}
    for tool in ("ruff", "mypy"):
        specs = list(dev[tool].specifier)
        assert [s.operator for s in specs] == ["=="], f"{tool} must be pinned exactly"
    faust = next(Requirement(r) for r in project["dependencies"]
                 if _norm(Requirement(r).name) == "faust-streaming")
    assert any(s.operator in ("<", "<=", "==", "~=") for s in faust.specifier), (
        "faust-streaming needs an upper bound")


def test_the_makefile_and_the_dockerfile_install_from_the_locks() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "LOCK := requirements-dev.lock" in makefile
    assert "--require-hashes -r $(LOCK)" in makefile
    assert "--no-deps -e ." in makefile
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps ." in dockerfile


def test_dev_kafka_is_a_4x_release() -> None:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    pom = ET.parse(REPO / "wastream" / "dev" / "kafka-pom.xml")  # noqa: S314 (our own file)
    version = pom.find("m:properties/m:kafka.version", ns)
    assert version is not None
    assert version.text is not None
    # The newest 4.x release on Maven Central when this was written (4.4.0).
    assert Version(version.text) >= Version("4.4.0")
    assert Version(version.text).major == 4


def test_licence_file_and_metadata() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
