"""``wrk`` as the load generator: a C event loop that costs a fraction of the servers'
CPU, so that on two cores the servers, not the generator, set the pace.

Install it with ``apt-get install -y wrk`` (Debian/Ubuntu; ``brew install wrk`` on a
Mac). The Lua script below loads pre-signed bodies from a file (one ``signature<TAB>body``
line each; an HMAC cannot be computed in wrk's Lua at any useful speed), formats every
request once at start, then cycles through them; ``done`` prints one JSON line.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import orjson

from bench.ingress.load import Result

SCRIPT = r"""
local reqs, n, i = {}, 0, 0
function init(args)
  for line in io.lines(args[1]) do
    local tab = string.find(line, "\t", 1, true)
    n = n + 1
    reqs[n] = wrk.format("POST", nil, {["Content-Type"] = "application/json",
      ["X-Hub-Signature-256"] = string.sub(line, 1, tab - 1)}, string.sub(line, tab + 1))
  end
end
function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_RESULT {"requests": %d, "duration_us": %d, "status": %d, "socket": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n', summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def path() -> str | None:
    """The ``wrk`` executable, or None when it is not installed."""
    return shutil.which("wrk")


class Pool:
    """Signed bodies written where wrk's Lua can read them (one file per pool)."""

    def __init__(self, pool: list[tuple[bytes, str]]) -> None:
        for raw, _sig in pool:
            if b"\n" in raw or b"\t" in raw:
                raise ValueError("bodies must be compact JSON (no newline, no tab)")
        self.size = len(pool)
        self._dir = tempfile.TemporaryDirectory(prefix="wastream-wrk-")
        self.file = Path(self._dir.name) / "bodies.tsv"
        with self.file.open("wb") as f:
            for raw, sig in pool:
                f.write(sig.encode() + b"\t" + raw + b"\n")
        self.script = Path(self._dir.name) / "post.lua"
        self.script.write_text(SCRIPT)

    def close(self) -> None:
        self._dir.cleanup()


async def run(url: str, pool: Pool, *, seconds: float, concurrency: int,
              events_per_request: int) -> Result:
    """One wrk run (one thread, ``concurrency`` connections) of ``seconds``."""
    exe = path()
    if exe is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    proc = await asyncio.create_subprocess_exec(
        exe, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(pool.script), url, "--", str(pool.file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    marker = text.rfind("WRK_RESULT ")
    if proc.returncode != 0 or marker < 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
    d = orjson.loads(text[marker + len("WRK_RESULT "):].splitlines()[0])
    # wrk counts answers >= 400 in "status"; socket errors are requests never answered.
    ok = int(d["requests"]) - int(d["status"])
    return Result(requests=int(d["requests"]) + int(d["socket"]), ok=ok,
                  seconds=int(d["duration_us"]) / 1e6, events_per_request=events_per_request,
                  p50_ms=int(d["p50_us"]) / 1000.0, p99_ms=int(d["p99_us"]) / 1000.0)
