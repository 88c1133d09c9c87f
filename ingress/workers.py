"""``wastream ingress --workers N``: N ingress processes sharing one port.

Each child is a plain ``wastream ingress --reuse-port`` whose socket is bound with
``SO_REUSEPORT``, so the kernel spreads new connections over the N listening sockets
(by a hash of each connection's addresses; a kept-alive connection stays with the
process that accepted it). One Python process is bound to one core by the GIL; N of
them let the ingress use N cores, as gunicorn's and uvicorn's ``--workers`` do.

The parent serves nothing itself. It starts the children, forwards SIGTERM and SIGINT
to them (each finishes its requests and flushes its producers, as a single ingress
does), and exits when they have all exited, with the highest exit code among them. It
restarts none: when a child exits on its own, the parent stops the others and exits too,
so that whatever supervises it (systemd, Kubernetes, ``wastream run``) sees the failure
and restarts the whole group, rather than the ingress running on fewer cores unnoticed.

Health ports: with ``WASTREAM_HEALTH_PORT=P`` set, child ``i`` (0-based) serves its
``/healthz``, ``/readyz`` and ``/metrics`` on ``P + i``; each child's metrics count its
own requests only (scrape every port, or sum them). Unset: no child serves one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from ingress import logs
from wastream.config import ConfigError, Settings

log = logging.getLogger(__name__)

HEALTH_PORT = "WASTREAM_HEALTH_PORT"


def child_env(base: dict[str, str], index: int, health_port: int | None) -> dict[str, str]:
    """The environment of child ``index``: ``base`` with its own health port (``P + index``
    when the parent's ``WASTREAM_HEALTH_PORT`` is ``P``)."""
    env = dict(base)
    if health_port is not None:
        env[HEALTH_PORT] = str(health_port + index)
    return env


def supervise(host: str, port: int, insecure_dev: bool, workers: int) -> int:
    """Run ``workers`` ingress processes on ``host:port`` until SIGTERM/SIGINT or until
    one of them exits; return the highest exit code among them (2 when misconfigured)."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        logs.configure("INFO")
        log.critical("ingress not started: %s", exc)
        print(f"wastream ingress: {exc}", file=sys.stderr)
        return 2
    logs.configure_from(settings, "ingress")
    if port == 0:
        # Each child would bind a port of its own: nothing would be shared.
        print("wastream ingress: --workers needs a fixed --port (not 0)", file=sys.stderr)
        return 2
    health = settings.observability.health_port
    if health is not None and health + workers - 1 > 65535:
        print(f"wastream ingress: health ports {health}..{health + workers - 1} "
              "go past 65535", file=sys.stderr)
        return 2
    cmd = [sys.executable, "-m", "wastream.cli", "ingress", "--host", host,
           "--port", str(port), "--reuse-port"]
    if insecure_dev:
        cmd.append("--insecure-dev")
    stopping = False
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    # Installed before the first child starts, so that none is left behind by a signal
    # that arrives while the others are starting.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    for i in range(workers):
        children.append(subprocess.Popen(cmd, env=child_env(dict(os.environ), i, health)))
        log.info("ingress worker started", extra={"worker": i, "pid": children[-1].pid})
    while any(c.poll() is None for c in children):
        if not stopping and any(c.returncode is not None for c in children):
            gone = next(c for c in children if c.returncode is not None)
            log.error("ingress worker exited on its own; stopping the others",
                      extra={"pid": gone.pid, "exit_code": gone.returncode})
            forward(signal.SIGTERM, None)
        time.sleep(0.2)
    codes = [c.returncode for c in children]
    log.info("ingress workers stopped", extra={"exit_codes": codes})
    # A child killed by a signal has a negative code: report it as the shell would.
    return max(code if code >= 0 else 128 - code for code in codes)
