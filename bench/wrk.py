"""A closed loop driven by `wrk` (compiled, Debian's package; `bash deploy/tools.sh`): with httpx
the load generator spent more CPU per request than the baseline's server, so it bounded the
baseline's rate.

Every request is prepared here beforehand (its own token scope, Idempotency-Key and body) as raw
HTTP; a Lua script hands them out in turn, counts statuses, and the 201s per `tag` (the OPD). The
generator's own CPU comes from the kernel's accounting of the finished child.
"""

import asyncio
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.cpu import CpuMeter
from bench.load import Call, Throughput

SEPARATOR = "\0"
SCRIPT = r"""
local requests, next_index = {}, 1
created, statuses, tags, exhausted = 0, {}, {}, 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  for request in string.gmatch(data, "([^%z]+)%z") do
    requests[#requests + 1] = request
  end
end

function request()
  -- more requests than the run can send are prepared; never repeat one (its key would replay)
  local request = requests[next_index]
  next_index = next_index + 1
  if request == nil then
    exhausted = 1
    return requests[#requests]
  end
  return request
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 201 then
    created = created + 1
    local tag = string.match(body, '"opd_code":"([^"]*)"')
    if tag then tags[tag] = (tags[tag] or 0) + 1 end
  end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests_done)
  local thread = threads[1]
  local parts = {}
  for status, n in pairs(thread:get("statuses")) do
    parts[#parts + 1] = string.format('"%s": %d', status, n)
  end
  local tag_parts = {}
  for tag, n in pairs(thread:get("tags")) do
    tag_parts[#tag_parts + 1] = string.format('"%s": %d', tag, n)
  end
  io.write(string.format(
    'WRK-RESULT {"requests": %d, "duration_us": %d, "socket_errors": %d,'
    .. ' "p50_us": %d, "p99_us": %d, "statuses": {%s}, "tags": {%s},'
    .. ' "exhausted": %d}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), table.concat(parts, ", "),
    table.concat(tag_parts, ", "), thread:get("exhausted")))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _raw(host: str, call: Call) -> str:
    body = json.dumps(call.body, separators=(",", ":"))
    headers = {
        "Host": host,
        "Content-Type": "application/json",
        "Content-Length": str(len(body.encode())),
        **call.headers,
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST {call.path} HTTP/1.1\r\n{head}\r\n{body}"


@dataclass(frozen=True)
class WrkRun:
    throughput: Throughput
    created_by_tag: dict[str, int]
    generator_cpu_s: float


async def _run_wrk(
    url: str, calls: list[Call], *, connections: int, duration_s: float, directory: Path
) -> dict[str, Any]:
    requests = directory / "requests"
    host = urlsplit(url).netloc
    requests.write_text("".join(_raw(host, call) + SEPARATOR for call in calls), encoding="utf-8")
    script = directory / "orders.lua"
    script.write_text(SCRIPT, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",  # one thread: wrk's event loop keeps far more connections busy than this needs
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        url,
        "--",
        str(requests),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    for line in out.decode().splitlines():
        if line.startswith("WRK-RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("WRK-RESULT "))
            return result
    raise RuntimeError(f"wrk gave no result: {out.decode()} {err.decode()}")


async def closed_loop(
    url: str,
    next_call: Callable[[], Call],
    *,
    clients: int,
    warmup_s: float,
    measure_s: float,
    meter: CpuMeter,
    rate_bound_per_s: float = 8000.0,
) -> WrkRun:
    """A warm-up run, then the measured run, each with requests of their own (never reused:
    `rate_bound_per_s` x duration of them are prepared). Only the measured run is counted."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as name:
        directory = Path(name)
        warmup = [next_call() for _ in range(round(rate_bound_per_s * warmup_s))]
        warm = await _run_wrk(
            url, warmup, connections=clients, duration_s=warmup_s, directory=directory
        )
        calls = [next_call() for _ in range(round(rate_bound_per_s * measure_s))]
        before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = await meter.snapshot()
        started = time.perf_counter()
        result = await _run_wrk(
            url, calls, connections=clients, duration_s=measure_s, directory=directory
        )
        elapsed = time.perf_counter() - started
        cpu_cores = meter.usage(cpu_before, await meter.snapshot())
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator_cpu_s = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    if result["exhausted"]:
        raise RuntimeError("wrk ran out of prepared requests: raise rate_bound_per_s")
    seconds = result["duration_us"] / 1e6
    statuses = {int(status): n for status, n in result["statuses"].items()}
    created = statuses.pop(201, 0)
    if result["socket_errors"]:
        statuses[0] = result["socket_errors"]
    # the generator is not one of the processes the meter knows: its own figure replaces it
    cpu_cores["load generator"] = round(generator_cpu_s / elapsed, 2)
    throughput = Throughput(
        per_s=created / seconds,
        ok=created,
        errors=sum(statuses.values()),
        error_statuses=statuses,
        latency_p50_ms=result["p50_us"] / 1000,
        latency_p99_ms=result["p99_us"] / 1000,
        cpu_cores=cpu_cores,
    )
    tags: dict[str, int] = dict(result["tags"])
    for tag, n in warm["tags"].items():
        tags[tag] = tags.get(tag, 0) + n
    return WrkRun(throughput, tags, generator_cpu_s)
