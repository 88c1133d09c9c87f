"""``wastream run``: the whole system on one machine, shown working; Ctrl-C, SIGTERM or
SIGHUP stops everything it started, and a watchdog does when run itself is killed."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from wastream import runenv
from wastream.dev import DevStack, DevStackError, stack_from_env
from wastream.watchdog import die_with_parent, write_state


class _Signals:
    """SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed terminal) all ask ``run`` to stop
    everything it started; the handlers only set a flag that every wait below checks."""

    NAMES = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.received: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for sig in self.NAMES:
            self._old[sig] = signal.signal(sig, self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _on(self, signum: int, _frame: object) -> None:
        self.received = signum

    @property
    def stop(self) -> bool:
        return self.received is not None


def _spawn(
    name: str, args: list[str], env: dict[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    # Its own session: a signal to run's group reaches run only, which stops its children
    # in order; die_with_parent: a killed run takes them with it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "wastream.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    log.close()
    print(f"run: {name} started (pid {proc.pid}, log {log_dir / (name + '.log')})", flush=True)
    return proc


def _wait_http(url: str, proc: subprocess.Popen[bytes], signals: _Signals,
               timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not signals.stop:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _finish(proc: subprocess.Popen[bytes], signals: _Signals) -> int | None:
    """Wait for a one-shot child; None when a signal came first (the child is stopped)."""
    while proc.poll() is None:
        if signals.stop:
            _stop({"": proc}, quiet=True)
            return None
        time.sleep(0.1)
    return proc.returncode


def _stop(procs: dict[str, subprocess.Popen[bytes]], quiet: bool = False) -> None:
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
        if not quiet:
            print(f"run: {name} stopped", flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "wastream.cli", *args], env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=die_with_parent)


# What run generates or points at, written to .wastream/env for the other commands (the
# topic prefix and schema too when set: chat must read the same topics).
SHARED = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "DATABASE_OWNER_URL", "WHATSAPP_APP_SECRET",
          "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_GRAPH_URL", "WHATSAPP_ACCESS_TOKEN",
          "WASTREAM_TOPIC_PREFIX", "WASTREAM_DB_SCHEMA", "WASTREAM_REPLICATION_FACTOR")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def run_all(port: int, demo: bool, console_port: int = 8082) -> int:
    with _Signals() as signals:
        return _run(port, demo, signals, console_port)


def _run(port: int, demo: bool, signals: _Signals, console_port: int) -> int:
    stack = stack_from_env()
    home = stack.home
    home.mkdir(parents=True, exist_ok=True)
    log_dir = home / "run-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env_path = runenv.env_file(home)
    # What the watchdog must stop if run is killed: filled in as things start.
    state: dict[str, Any] = {"pids": [], "stop_kafka": stack.kafka.pid() is None,
                             "stop_postgres": stack.postgres.pid() is None,
                             "env_file": str(env_path), "done": False}
    state_file = home / "run-state.json"
    write_state(state_file, state)
    with (log_dir / "watchdog.log").open("ab") as wlog:
        watchdog = subprocess.Popen(
            [sys.executable, "-m", "wastream.watchdog", str(os.getpid()), str(state_file)],
            stdin=subprocess.DEVNULL, stdout=wlog, stderr=subprocess.STDOUT,
            start_new_session=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    started = {"kafka": False, "postgres": False}
    try:
        return _serve(port, demo, signals, stack, log_dir, env_path, state, state_file,
                      procs, started, console_port)
    finally:
        _stop(procs)
        if started["kafka"]:
            stack.kafka.stop()
            print("run: kafka stopped", flush=True)
        if started["postgres"]:
            stack.postgres.stop()
            print("run: postgres stopped", flush=True)
        env_path.unlink(missing_ok=True)
        write_state(state_file, {**state, "done": True})
        with contextlib.suppress(ProcessLookupError):
            watchdog.terminate()
        watchdog.wait(10)
        state_file.unlink(missing_ok=True)
        if signals.received is not None:
            print(f"run: stopped on {signal.Signals(signals.received).name}", flush=True)


def _serve(port: int, demo: bool, signals: _Signals, stack: DevStack, log_dir: Path,
           env_path: Path, state: dict[str, Any], state_file: Path,
           procs: dict[str, subprocess.Popen[bytes]], started: dict[str, bool],
           console_port: int) -> int:
    try:
        started.update(stack.up())
    except DevStackError as exc:
        print(f"wastream run: {exc}", file=sys.stderr)
        return 2
    if signals.stop:
        return 0
    print(f"run: kafka {stack.kafka.bootstrap}, postgres {stack.postgres.url}", flush=True)
    env = dict(os.environ)
    for name, value in stack.kafka.client_env().items():
        env.setdefault(name, value)
    if not env.get("DATABASE_URL"):  # the dev stack's: the services' role and the owner's
        env["DATABASE_URL"] = stack.postgres.url
        env.setdefault("DATABASE_OWNER_URL", stack.postgres.owner_url)
    if not env.get("WHATSAPP_APP_SECRET"):
        # A local run has no Meta app: sign with a per-run secret that the demo shares.
        env["WHATSAPP_APP_SECRET"] = secrets.token_hex(16)
    env.setdefault("WHATSAPP_VERIFY_TOKEN", "wastream-dev")
    env.setdefault("WASTREAM_HOME", str(stack.home))
    env["PYTHONUNBUFFERED"] = "1"
    # Each service's /healthz, /readyz and /metrics on a port of its own (the console
    # reads the ingress's and the worker's).
    health = {name: _free_port() for name in ("ingress", "worker", "projector")}

    def spawn(name: str, args: list[str]) -> None:
        own = {"WASTREAM_HEALTH_PORT": str(health[name])} if name in health else {}
        procs[name] = _spawn(name, args, {**env, **own}, log_dir)
        state["pids"].append(procs[name].pid)
        write_state(state_file, state)

    if not env.get("WHATSAPP_GRAPH_URL"):
        # No Meta here: replies go to the local stand-in Graph API, which checks each
        # request against Meta's documented shape.
        stub_port = _free_port()
        env["WHATSAPP_GRAPH_URL"] = f"http://127.0.0.1:{stub_port}"
        env["WHATSAPP_ACCESS_TOKEN"] = env.get("WHATSAPP_ACCESS_TOKEN") or secrets.token_hex(16)
        spawn("graph-stub",
              ["graph-stub", "--port", str(stub_port), "--token", env["WHATSAPP_ACCESS_TOKEN"],
               # its template statuses reach the worker (decision 0015)
               "--webhook-url", f"http://127.0.0.1:{port}/webhook",
               "--app-secret", env["WHATSAPP_APP_SECRET"]])
    secure = stack.kafka.client_env() if stack.kafka.secure else {}
    runenv.write(env_path, {**{k: env[k] for k in SHARED if env.get(k)}, **secure})
    print(f"run: settings for other shells in {env_path} (read by wastream chat, demo, dlq …)",
          flush=True)
    for step in (["migrate"], ["topics"]):
        code = _finish(_cli(step, env), signals)
        if code is None:
            return 0
        # topics: 1 is drift it reported and could not fix; the system still runs.
        if code != 0 and not (step == ["topics"] and code == 1):
            print(f"run: wastream {step[0]} failed ({code})", file=sys.stderr)
            return code
    spawn("ingress", ["ingress", "--port", str(port)])
    spawn("worker", ["worker"])
    spawn("projector", ["project"])
    if not _port_free(console_port):
        taken, console_port = console_port, _free_port()
        print(f"run: port {taken} is taken; the console uses {console_port}", flush=True)
    spawn("console", ["console", "--port", str(console_port),
                      "--ingress-metrics-url", f"http://127.0.0.1:{health['ingress']}/metrics",
                      "--worker-metrics-url", f"http://127.0.0.1:{health['worker']}/metrics"])
    # /readyz, not /healthz: until its producer connects the ingress answers 503.
    for name, url in (("ingress", f"http://127.0.0.1:{port}/readyz"),
                      ("console", f"http://127.0.0.1:{console_port}/healthz")):
        if not _wait_http(url, procs[name], signals):
            if signals.stop:
                return 0
            print(f"run: {name} did not come up; see {log_dir / (name + '.log')}",
                  file=sys.stderr)
            return 1
    code = 0
    if demo:
        got = _finish(_cli(["demo", "--url", f"http://127.0.0.1:{port}/webhook",
                            "--timeout", "90"], env), signals)
        if got is None:
            return 0
        code = got
    print(
        f"\nrun: the console is on http://127.0.0.1:{console_port}/ (first account: "
        "wastream console add-operator NAME)",
        flush=True,
    )
    print(
        f"run: the system is up (webhook http://127.0.0.1:{port}/webhook); "
        "Ctrl-C stops everything this command started.",
        flush=True,
    )
    while not signals.stop:
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
