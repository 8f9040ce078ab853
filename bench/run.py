"""Load a running taskapi and print req/s and latency percentiles per workload.

    uv run taskapi serve &                       # the service, configured as you run it
    uv run python bench/run.py --url http://127.0.0.1:8000

Seeds USERS x TASKS tasks through the API (POST), then drives each workload with wrk
(Debian/Ubuntu: apt-get install wrk) for DURATION seconds after a warm-up. Traffic goes only
to --url; every run is bounded in time. The side-by-side comparison with the reference
implementations and the floor is ../shared/bench/compare.sh (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

WORKLOADS = {
    "get-one": "get one task",
    "list": "list a user's 100 tasks",
    "create": "create a task",
    "mixed": "70% get, 15% list, 5% PUT, 5% PATCH .../complete, 5% POST",
}

LUA = r"""
local workload, tasks, users, n = nil, {}, {}, 0
local json = { ["Content-Type"] = "application/json" }
function init(args)
  workload = args[1]
  for line in io.lines(args[2]) do
    local u, t = line:match("^(%S+)%s+(%S+)$")
    tasks[#tasks + 1] = "/api/" .. u .. "/tasks/" .. t
    local list = "/api/" .. u .. "/tasks"
    if users[#users] ~= list then users[#users + 1] = list end
  end
end
local function pick(list) return list[math.random(#list)] end
local function create()
  n = n + 1
  return wrk.format("POST", pick(users), json, '{"title":"bench ' .. n .. '"}')
end
function request()
  if workload == "get-one" then return wrk.format("GET", pick(tasks)) end
  if workload == "list" then return wrk.format("GET", pick(users)) end
  if workload == "create" then return create() end
  local r = math.random(100)
  if r <= 70 then return wrk.format("GET", pick(tasks)) end
  if r <= 85 then return wrk.format("GET", pick(users)) end
  if r <= 90 then
    n = n + 1
    return wrk.format("PUT", pick(tasks), json, '{"title":"bench update ' .. n .. '"}')
  end
  if r <= 95 then return wrk.format("PATCH", pick(tasks) .. "/complete") end
  return create()
end
function done(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %.3f %.3f %.3f %.3f\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


async def seed(url: str, users: int, tasks: int) -> list[str]:
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        semaphore = asyncio.Semaphore(20)

        async def create(user: str, i: int) -> str:
            async with semaphore:
                response = await client.post(f"/api/{user}/tasks", json={"title": f"seed {i}"})
                response.raise_for_status()
                return f"{user} {response.json()['data']['id']}"

        return await asyncio.gather(
            *(create(f"bench-{u:03d}", i) for u in range(users) for i in range(tasks))
        )


def drive(url: str, workload: str, connections: int, seconds: int, script: Path, ids: Path) -> dict:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        workload,
        str(ids),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^BENCH (.*)$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk said:\n{output}")
    requests, non2xx, socket_errors, duration, p50, p99, worst = match.group(1).split()
    return {
        "workload": workload,
        "connections": connections,
        "req_per_s": round(int(requests) / float(duration)),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "max_ms": float(worst),
        "non_2xx": int(non2xx),
        "socket_errors": int(socket_errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100, help="tasks per user")
    parser.add_argument("--duration", type=int, default=10, help="seconds per workload")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/run.py needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as work:
        script, ids = Path(work) / "tasks.lua", Path(work) / "ids.txt"
        script.write_text(LUA)
        ids.write_text("\n".join(asyncio.run(seed(args.url, args.users, args.tasks))) + "\n")
        if not args.json:
            print(f"seeded {args.users} users x {args.tasks} tasks at {args.url}")
            print(
                f"{'workload':12} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
                f"{'max ms':>8} {'non2xx':>7} {'sockerr':>7}"
            )
        for workload in args.workloads.split(","):
            for connections in (
                (args.connections, 10) if workload == "get-one" else (args.connections,)
            ):
                drive(args.url, workload, connections, args.warmup, script, ids)
                row = drive(args.url, workload, connections, args.duration, script, ids)
                if args.json:
                    print(json.dumps(row))
                else:
                    print(
                        f"{workload:12} {connections:5} {row['req_per_s']:8} {row['p50_ms']:8.1f} "
                        f"{row['p99_ms']:8.1f} {row['max_ms']:8.1f} {row['non_2xx']:7} "
                        f"{row['socket_errors']:7}"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
