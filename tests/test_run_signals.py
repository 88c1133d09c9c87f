"""`wastream run` (make run) stops everything it started on SIGHUP (a closed terminal) and
SIGTERM as on Ctrl-C, also when Ctrl-C comes during the demo; and when it is killed
outright, its services, its Kafka and its PostgreSQL die with it.

Each test gives run a home and ports of its own, so that run starts its own Kafka and
PostgreSQL (never the shared stack's) and must stop all seven servers."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.devstack import drop_cluster
from tests.support.system import REPO, free_port
from wastream import runenv
from wastream.dev import DevStack, procs, stack_from_env

pytestmark = pytest.mark.slow


class Run:
    def __init__(self, home: Path, env: dict[str, str], demo: bool) -> None:
        self.home, self.env = home, env
        args = [sys.executable, "-m", "wastream.cli", "run", "--port", str(free_port())]
        # A session of its own, as a terminal gives: signals go to its group, not pytest's.
        self.proc = subprocess.Popen([*args, *([] if demo else ["--no-demo"])], env=env,
                                     cwd=REPO, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []

    @property
    def stack(self) -> DevStack:
        return stack_from_env(self.env)

    def wait_for(self, text: str, timeout_s: float = 150) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if text in line:
                return "".join(self.lines)
        raise AssertionError(f"no {text!r} from run:\n{''.join(self.lines)}")

    def servers(self) -> dict[str, int]:
        """The seven servers' pids: the five run spawned, and its Kafka and PostgreSQL."""
        out = "".join(self.lines)
        got = {name: int(pid) for name, pid in
               re.findall(r"run: ([\w-]+) started \(pid (\d+)", out)}
        kafka, pg = self.stack.kafka.pid(), self.stack.postgres.pid()
        assert kafka is not None
        assert pg is not None
        return {**got, "kafka": kafka, "postgres": pg}

    def finish(self, timeout_s: float = 60) -> str:
        rest, _ = self.proc.communicate(timeout=timeout_s)
        return "".join(self.lines) + rest

    def kill_all(self) -> None:
        """Clean-up whatever the test left (only this run's own processes)."""
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.stack.kafka.stop()
        self.stack.postgres.stop()
        drop_cluster(self.stack)


def _gone(pids: dict[str, int], timeout_s: float) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = [name for name, pid in pids.items() if procs.alive(pid)]
        if not left:
            return []
        time.sleep(0.5)
    return left


@pytest.fixture
def run_env(dev_stack: dict[str, str], tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    home = tmp_path / "home"
    (home / "kafka").mkdir(parents=True)
    shared = stack_from_env().kafka.home
    for name in ("classpath.txt", "classpath.pom"):  # the same pom: no Maven run
        if (shared / name).exists():
            shutil.copy(shared / name, home / "kafka" / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WASTREAM_", "WHATSAPP_", "KAFKA_", "DATABASE_"))}
    env.update({"WASTREAM_HOME": str(home), "WASTREAM_KAFKA_PORT": str(free_port()),
                "WASTREAM_KAFKA_CONTROLLER_PORT": str(free_port()),
                "WASTREAM_PG_PORT": str(free_port()), "WASTREAM_PARTITIONS": "1",
                "PYTHONUNBUFFERED": "1"})
    return home, env


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_sighup_and_sigterm_stop_all_seven_servers(
    run_env: tuple[Path, dict[str, str]], sig: signal.Signals
) -> None:
    home, env = run_env
    run = Run(home, env, demo=False)
    try:
        run.wait_for("the system is up")
        servers = run.servers()
        assert set(servers) == {"graph-stub", "ingress", "worker", "projector", "console",
                                "kafka", "postgres"}
        shared = runenv.read(runenv.env_file(home))
        assert shared["WHATSAPP_APP_SECRET"]
        assert shared["WHATSAPP_GRAPH_URL"].startswith("http://127.0.0.1:")
        os.killpg(run.proc.pid, sig)
        out = run.finish()
        assert run.proc.returncode == 0, out
        assert _gone(servers, 10) == [], out
        assert f"stopped on {sig.name}" in out
        assert not runenv.env_file(home).exists()
    finally:
        run.kill_all()


def test_ctrl_c_during_the_demo_stops_everything(run_env: tuple[Path, dict[str, str]]) -> None:
    home, env = run_env
    run = Run(home, env, demo=True)
    try:
        run.wait_for("→ POST")  # the demo is running
        servers = run.servers()
        os.killpg(run.proc.pid, signal.SIGINT)  # Ctrl-C: the terminal's whole group
        out = run.finish(timeout_s=60)
        assert _gone(servers, 10) == [], out
        assert "stopped on SIGINT" in out
    finally:
        run.kill_all()


def test_a_killed_run_takes_its_servers_with_it(run_env: tuple[Path, dict[str, str]]) -> None:
    home, env = run_env
    run = Run(home, env, demo=False)
    try:
        run.wait_for("the system is up")
        servers = run.servers()
        os.kill(run.proc.pid, signal.SIGKILL)
        run.proc.wait(10)
        # The services at once (PR_SET_PDEATHSIG), Kafka and PostgreSQL by the watchdog.
        assert _gone(servers, 60) == [], "".join(run.lines)
        assert not runenv.env_file(home).exists()
    finally:
        run.kill_all()
