"""What ``wastream run`` started dies with it, even when it is killed outright.

``wastream run`` stops everything itself on Ctrl-C, SIGTERM and SIGHUP. Against a
``kill -9`` (or a crash) two things act without it:

- every service it spawns asks the kernel for SIGTERM when its parent dies
  (``PR_SET_PDEATHSIG``, :func:`die_with_parent`);
- a watchdog process in a session of its own (so that a signal to ``run``'s process group
  does not reach it) polls ``run``'s pid; when it is gone and ``run`` did not say it
  cleaned up, it stops the process groups listed in the state file, then the dev
  stack's Kafka and PostgreSQL if ``run`` started them (``pg_ctl`` daemonizes PostgreSQL,
  so no death signal reaches it).

``python -m wastream.watchdog PARENT_PID STATE_FILE``; the state file is JSON:
``{"pids": [...], "stop_kafka": bool, "stop_postgres": bool, "env_file": path, "done": bool}``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` of a child: SIGTERM it when the process that spawned it dies
    (Linux; elsewhere a no-op, and the watchdog alone acts)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def write_state(path: Path, state: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is dead for our purpose
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    return True


def clean_up(state: dict[str, object]) -> None:
    """Stop what ``state`` lists: the services' groups, then Kafka and PostgreSQL."""
    from wastream.dev import procs, stack_from_env

    pids = state.get("pids", [])
    assert isinstance(pids, list)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(pid), signal.SIGTERM)
    for pid in pids:
        procs.terminate(int(pid), timeout_s=20.0)
    stack = stack_from_env()
    if state.get("stop_kafka"):
        stack.kafka.stop()
    if state.get("stop_postgres"):
        stack.postgres.stop()
    env_file = state.get("env_file")
    if isinstance(env_file, str):
        Path(env_file).unlink(missing_ok=True)


def watch(parent: int, state_file: Path, poll_s: float = 0.5) -> int:
    # Ctrl-C and a closed terminal are run's to handle; this process outlives them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while _alive(parent):
        time.sleep(poll_s)
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return 0  # run removed it: it cleaned up itself
    if not state.get("done"):
        clean_up(state)
    state_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(watch(int(sys.argv[1]), Path(sys.argv[2])))
