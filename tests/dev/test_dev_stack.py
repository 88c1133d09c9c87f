"""The embedded dev stack, on its own home and ports (the shared one stays untouched):
up, status, env, kill -9 recovery, down with no process left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.system import REPO, free_port
from wastream.dev import procs


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wastream.cli", "dev", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )


@pytest.mark.usefixtures("real_servers")  # starts a Kafka and a PostgreSQL of its own
def test_dev_up_status_kill9_recover_down(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTREAM_")}
    kafka_port, pg_port = free_port(), free_port()
    env.update(
        {
            "WASTREAM_HOME": str(tmp_path / "home"),
            "WASTREAM_KAFKA_PORT": str(kafka_port),
            "WASTREAM_KAFKA_CONTROLLER_PORT": str(free_port()),
            "WASTREAM_PG_PORT": str(pg_port),
        }
    )
    up = _cli(env, "up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "kafka: started" in up.stdout
        assert "postgres: started" in up.stdout

        again = _cli(env, "up")
        assert again.returncode == 0, again.stderr
        assert "kafka: already running" in again.stdout
        assert "postgres: already running" in again.stdout

        status = _cli(env, "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("healthy") == 2
        assert str(tmp_path / "home" / "kafka" / "kafka.log") in status.stdout

        dev_env = _cli(env, "env")
        assert f"export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{kafka_port}" in dev_env.stdout
        assert f"@127.0.0.1:{pg_port}/wastream" in dev_env.stdout

        kafka_pid = int((tmp_path / "home" / "kafka" / "kafka.pid").read_text())
        os.kill(kafka_pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while procs.alive(kafka_pid, "kafka.Kafka") and time.monotonic() < deadline:
            time.sleep(0.1)
        down_status = _cli(env, "status")
        assert down_status.returncode == 1
        assert "kafka: down" in down_status.stdout

        restored = _cli(env, "up")
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "kafka: started" in restored.stdout
        assert _cli(env, "status").returncode == 0
    finally:
        down = _cli(env, "down")
    assert down.returncode == 0, down.stderr
    assert not procs.port_open("127.0.0.1", kafka_port)
    assert not procs.port_open("127.0.0.1", pg_port)
    leftover = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert leftover.stdout.strip() == "", f"processes left behind: {leftover.stdout}"
