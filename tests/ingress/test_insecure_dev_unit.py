"""``--insecure-dev`` (signatures not checked) is refused on a host beyond loopback."""

from __future__ import annotations

from typing import Any

import pytest

from ingress import app as ingress_app

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (what is refused)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Where the ingress would have listened (its server is replaced by a recorder)."""
    calls: list[tuple[str, int]] = []

    async def fake_serve(app: Any, host: str, port: int, settings: Any, **kw: Any) -> int:
        calls.append((host, port))
        return 0

    monkeypatch.setattr(ingress_app, "_serve", fake_serve)
    # serve() tunes the collector and logging of its process: not of pytest's
    monkeypatch.setattr(ingress_app, "tune_gc", lambda gen0: None)
    monkeypatch.setattr(ingress_app.logs, "configure", lambda level: None)
    monkeypatch.delenv("WHATSAPP_APP_SECRET", raising=False)
    return calls


@pytest.mark.parametrize("host", [ALL_INTERFACES, "::", "192.168.1.10", "example.org"])
def test_insecure_dev_on_a_non_loopback_host_is_refused(
        host: str, started: list[tuple[str, int]], capsys: pytest.CaptureFixture[str]) -> None:
    assert ingress_app.serve(host, 8080, insecure_dev=True) == 2
    assert started == []
    assert "--insecure-dev" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_insecure_dev_on_loopback_starts(host: str, started: list[tuple[str, int]]) -> None:
    assert ingress_app.serve(host, 8080, insecure_dev=True) == 0
    assert started == [(host, 8080)]
