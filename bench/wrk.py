"""Saturation throughput measured with wrk, a load generator written in C, so that the generator is not what limits
the numbers: a Python client on the same two cores takes CPU from the server it measures.

Each run drives a list of requests (varied sessions, attempts and positions) through a Lua script that wrk loads;
the script counts every answer outside 2xx, which wrk itself would count only from 400 up. The generator's own
CPU time comes from the kernel's accounting of the wrk process (``os.wait4``), so the report can show how much of
the machine the generator took while the server was saturated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.loadgen import Request

WRK = shutil.which("wrk") or "/usr/bin/wrk"

# One Lua table entry per request; `init` formats them once per thread, `request` hands them out in turn.
SCRIPT = """
local requests = {{}}
local raw = {requests}
local i = 0
others = 0 -- a global, so that done() can read it from each thread
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for k, r in ipairs(raw) do
    requests[k] = wrk.format(r[1], r[2], r[3], r[4])
  end
  i = math.random(#requests) - 1
end

function request()
  i = (i % #requests) + 1
  return requests[i]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    others = others + 1
  end
end

function done(summary, latency, requests_done)
  local non2xx = 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + thread:get("others")
  end
  io.write("WRK-JSON ", string.format(
    '{{"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d}}',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    non2xx, latency:percentile(50), latency:percentile(99)), "\\n")
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    socket_errors: int
    non2xx: int
    p50_ms: float
    p99_ms: float
    generator_cpu: float  # CPU seconds the wrk process used, per second of the run (1.0 = one core's worth)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non2xx


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for the ASCII we send


def _lua_request(request: Request) -> str:
    headers = {"Host": "127.0.0.1"}
    if request.cookies:
        headers["Cookie"] = request.cookies
    if request.csrf:
        headers["X-CSRFToken"] = request.csrf
    headers.update(request.headers or {})
    body = ""
    if request.method == "POST":
        body = urlencode(request.data or {})
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    fields = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    return f"{{{_lua_string(request.method)}, {_lua_string(request.path)}, {{{fields}}}, {_lua_string(body)}}}"


def available() -> bool:
    return Path(WRK).exists()


def run(base: str, requests: list[Request], *, seconds: float, connections: int = 24, threads: int = 2) -> WrkResult:
    """Saturate ``base`` with ``requests`` (in turn, from a random start per thread) for ``seconds``."""
    script = SCRIPT.format(requests="{" + ",\n".join(_lua_request(r) for r in requests) + "}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        began = time.perf_counter()
        process = subprocess.Popen(
            [
                WRK,
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "-s",
                handle.name,
                base,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        os.unlink(handle.name)
    line = next((line for line in output.splitlines() if line.startswith("WRK-JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output[-2000:]}")
    figures = json.loads(line.removeprefix("WRK-JSON "))
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        socket_errors=figures["socket_errors"],
        non2xx=figures["non2xx"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        generator_cpu=(usage.ru_utime + usage.ru_stime) / wall,
    )
