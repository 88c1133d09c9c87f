"""``wastream run``: the whole system on one machine, shown working, stopped by Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from wastream.dev import DevStackError, stack_from_env


def _spawn(
    name: str, args: list[str], env: dict[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wastream.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    print(f"run: {name} started (pid {proc.pid}, log {log_dir / (name + '.log')})", flush=True)
    return proc


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for name, proc in procs.items():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        print(f"run: {name} stopped", flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "wastream.cli", *args], env=env, check=True)


def run_all(port: int, demo: bool) -> int:
    stack = stack_from_env()
    try:
        started = stack.up()
    except DevStackError as exc:
        print(f"wastream run: {exc}", file=sys.stderr)
        return 2
    print(f"run: kafka {stack.kafka.bootstrap}, postgres {stack.postgres.url}", flush=True)
    env = dict(os.environ)
    env.setdefault("KAFKA_BOOTSTRAP_SERVERS", stack.kafka.bootstrap)
    env.setdefault("DATABASE_URL", stack.postgres.url)
    for line in stack.env_lines():  # a cluster's replication settings, if it is one
        name, value = line.removeprefix("export ").split("=", 1)
        env.setdefault(name, value)
    if not env.get("WHATSAPP_APP_SECRET"):
        # A local run has no Meta app: sign with a per-run secret that the demo shares.
        env["WHATSAPP_APP_SECRET"] = secrets.token_hex(16)
    env.setdefault("WHATSAPP_VERIFY_TOKEN", "wastream-dev")
    env.setdefault("WASTREAM_HOME", str(stack.home))
    env["PYTHONUNBUFFERED"] = "1"
    log_dir = stack.home / "run-logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    procs: dict[str, subprocess.Popen[bytes]] = {}
    if not env.get("WHATSAPP_GRAPH_URL"):
        # No Meta here: replies go to the local stand-in Graph API, which checks each
        # request against Meta's documented shape.
        stub_port = _free_port()
        env["WHATSAPP_GRAPH_URL"] = f"http://127.0.0.1:{stub_port}"
        env["WHATSAPP_ACCESS_TOKEN"] = env.get("WHATSAPP_ACCESS_TOKEN") or secrets.token_hex(16)
        procs["graph-stub"] = _spawn(
            "graph-stub",
            ["graph-stub", "--port", str(stub_port), "--token", env["WHATSAPP_ACCESS_TOKEN"]],
            env,
            log_dir,
        )
    interrupted = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    old_int = signal.signal(signal.SIGINT, _on_signal)
    old_term = signal.signal(signal.SIGTERM, _on_signal)
    code = 0
    try:
        _cli(["migrate"], env)
        _cli(["topics"], env)
        procs["ingress"] = _spawn("ingress", ["ingress", "--port", str(port)], env, log_dir)
        procs["worker"] = _spawn("worker", ["worker"], env, log_dir)
        procs["projector"] = _spawn("projector", ["project"], env, log_dir)
        # /readyz, not /healthz: until its producer connects the ingress answers 503.
        if not _wait_http(f"http://127.0.0.1:{port}/readyz", procs["ingress"]):
            print(f"run: ingress did not come up; see {log_dir / 'ingress.log'}", file=sys.stderr)
            return 1
        if demo:
            demo_proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "wastream.cli",
                    "demo",
                    "--url",
                    f"http://127.0.0.1:{port}/webhook",
                    "--timeout",
                    "90",
                ],
                env=env,
                check=False,
            )
            code = demo_proc.returncode
        print(
            f"\nrun: the system is up (webhook http://127.0.0.1:{port}/webhook); "
            "Ctrl-C stops everything this command started.",
            flush=True,
        )
        while not interrupted:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(
                        f"run: {name} exited with {proc.returncode}; see "
                        f"{log_dir / (name + '.log')}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.3)
        return code
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        _stop(procs)
        if started["kafka"]:
            stack.kafka.stop()
            print("run: kafka stopped", flush=True)
        if started["postgres"]:
            stack.postgres.stop()
            print("run: postgres stopped", flush=True)
