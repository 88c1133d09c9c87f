"""Markers come from the fixtures a test uses (tests/conftest.py), and a fast run
(``make test-fast``) can neither select nor start a real server."""

from __future__ import annotations

import pytest

# Throwaway tests run by an inner pytest with tests/conftest.py as its only conftest.
SAMPLE = '''
import pytest

def test_plain():
    pass

def test_stack(dev_stack):
    pass

def test_system(system):
    pass

def test_private_broker(private_kafka):
    pass

@pytest.mark.usefixtures("real_servers")
def test_own_servers():
    pass

@pytest.fixture
def wrapped(system):
    return system

def test_through_a_local_fixture(wrapped):
    pass

def test_asks_late(request, monkeypatch):
    import wastream.dev
    monkeypatch.setattr(wastream.dev.DevStack, "up",
                        lambda self: pytest.fail("a server was started"))
    request.getfixturevalue("dev_stack")
'''


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")
    pytester.makepyfile(test_sample=SAMPLE)
    pytester.makeini("[pytest]\nmarkers =\n    integration: x\n    slow: x\n"
                     "addopts = --strict-markers -p no:cacheprovider\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    return pytester


def _selected(result: pytest.RunResult) -> set[str]:
    return {line.split("::")[1] for line in result.outlines if "::" in line}


def test_every_test_that_reaches_a_server_is_marked_integration(
        inner: pytest.Pytester) -> None:
    fast = inner.runpytest_inprocess("--collect-only", "-q", "-m", "not integration")
    assert _selected(fast) == {"test_plain", "test_asks_late"}

    integration = inner.runpytest_inprocess("--collect-only", "-q", "-m", "integration")
    assert _selected(integration) == {"test_stack", "test_system", "test_private_broker",
                                      "test_own_servers", "test_through_a_local_fixture"}


def test_a_fast_run_refuses_a_server_asked_for_late(inner: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASTREAM_TEST_FAST", "1")
    result = inner.runpytest_inprocess("-q", "-m", "not integration")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*WASTREAM_TEST_FAST=1 (make test-fast: no broker, "
                                 "no database), yet this test asked for a real Kafka*"])
    result.stdout.no_fnmatch_line("*a server was started*")
