"""Run every benchmark once: ``make bench`` (or ``.venv/bin/python -m bench [names…]``).

Each benchmark measures its baseline in the same run and prints ratios; absolute
numbers on a shared 2-core machine mean little. The dev stack is started if needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wastream.dev import stack_from_env

ROOT = Path(__file__).resolve().parents[1]
BENCHES: dict[str, list[str]] = {
    "ingress": ["-m", "bench.ingress"],
    "workflows": ["-m", "bench.workflows"],
    "projections": ["-m", "bench.projections"],
    "listings": ["-m", "bench.listings"],
    "sender": [str(ROOT / "bench" / "sender" / "run.py")],
    "failure_router": [str(ROOT / "bench" / "failure_router" / "run.py")],
    "agent": ["-m", "bench.agent"],
    "latency": ["-m", "bench.latency"],
    "scale": ["-m", "bench.scale"],
    "console": ["-m", "bench.console"],
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHES)}", file=sys.stderr)
        return 2
    stack = stack_from_env()
    stack.up()
    # The dev stack's DSNs, unless set: the services' role, and the owner's for the
    # migrations each benchmark runs in its own schema (the app role may not create one).
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = stack.postgres.url
        env.setdefault("DATABASE_OWNER_URL", stack.postgres.owner_url)
    failed = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        if subprocess.run([sys.executable, *BENCHES[name]], cwd=ROOT, env=env,
                          check=False).returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
