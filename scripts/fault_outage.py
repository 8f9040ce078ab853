#!/usr/bin/env python3
"""Fault injection: PostgreSQL goes away under a stream of creates, then comes back.

The script starts its own throwaway PostgreSQL 15 cluster (Debian's binaries, a free port on
127.0.0.1, a temporary directory, run as the `postgres` user when we are root) and the service
(`taskapi serve`) against it, drives creates from a few concurrent clients, and in two rounds
stops PostgreSQL (`pg_ctl stop -m fast`, then `-m immediate`, which is a crash: backends are
killed mid-statement and the restart runs crash recovery), keeps driving, and starts it again.

It checks what the contract promises (API.md, 503 SERVICE_UNAVAILABLE):

- while the database is away every create answers 503 with `Retry-After` and the error
  envelope, within 5 s, never a 500, never a hang, never a driver's text;
- once the database is back the service recovers by itself (no restart): creates answer 201;
- every create that answered 201 is in the `tasks` table (zero acknowledged writes lost).

It prints its figures and exits non-zero when a check fails. It stops only the processes it
started, by their PID (the cluster through `pg_ctl` on its own data directory), and removes its
temporary directory. Run it with `uv run python scripts/fault_outage.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import asyncpg
import httpx

ROOT: Final = Path(__file__).resolve().parents[1]
PG_BIN: Final = Path("/usr/lib/postgresql/15/bin")
LOOPBACK: Final = "127.0.0.1"
SYSTEM_POSTGRES_PORT: Final = 5432  # the machine's own server: never ours, never touched

CLIENTS: Final = 4
REQUEST_TIMEOUT: Final = 10.0  # httpx, per request
PACE: Final = 0.025  # seconds each client waits between two requests
MAX_REQUESTS: Final = 8000  # all clients together
TRAFFIC_LIMIT: Final = 60.0  # seconds of traffic at most
WARMUP: Final = 3.0
OUTAGE: Final = 8.0  # seconds of traffic with PostgreSQL stopped, per round
STEADY: Final = 2.0  # seconds of traffic after recovery, per round
RECOVERY_LIMIT: Final = 15.0  # after PostgreSQL accepts connections again
SETTLE: Final = 1.0  # after the first 201 of a recovery, no more 503s
HANG_LIMIT: Final = 5.0  # the contract: an outage answers within 5 s
HANG_MARGIN: Final = 0.5  # scheduling noise on a busy machine
READY_WAIT: Final = 60.0  # importing the app alone takes ~9 s on a slow machine
SHUTDOWN_GRACE: Final = 15.0
STOP_MODES: Final = ("fast", "immediate")
# Text that must never reach a client: driver, ORM, stack traces, OS error strings.
LEAK_MARKERS: Final = (
    "asyncpg",
    "sqlalchemy",
    "traceback",
    "psycopg",
    'file "',
    "connect call failed",
    "errno",
    "database system is",  # the server's own shutdown and start-up messages
    "57p0",  # SQLSTATEs of admin shutdown, crash shutdown, cannot connect now
)


class Failure(Exception):
    """Setting up the experiment failed (not a finding about the service)."""


def _free_port() -> int:
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind((LOOPBACK, 0))
            port = int(probe.getsockname()[1])
        if port != SYSTEM_POSTGRES_PORT:
            return port
    raise Failure("no free TCP port on 127.0.0.1")


def _unhandled_errors(path: Path, limit: int = 2, context: int = 80) -> str:
    """The service's logged 500s with their tracebacks: what to fix when a check fails."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    starts = [i for i, line in enumerate(lines) if "unhandled error" in line][:limit]
    return "\n...\n".join("\n".join(lines[i : i + context]) for i in starts)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --------------------------------------------------------------------------------- PostgreSQL


class Cluster:
    """A throwaway PostgreSQL 15 cluster in `root`, on 127.0.0.1:`port`, run by `postgres`."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.as_postgres = os.geteuid() == 0

    def _run(self, tool: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        command = [str(PG_BIN / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _pg_ctl(self, *args: str, timeout: float = 40) -> None:
        done = self._run("pg_ctl", "-D", str(self.data), *args, timeout=timeout)
        if done.returncode != 0:
            raise Failure(
                f"pg_ctl {' '.join(args)} failed ({done.returncode}): "
                f"{done.stdout}{done.stderr}\n{_tail(self.log)}"
            )

    def init(self) -> None:
        if self.as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.root.chmod(0o700)
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            timeout=120,
        )
        if done.returncode != 0:
            raise Failure(f"initdb failed ({done.returncode}): {done.stdout}{done.stderr}")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# fault_outage.py: TCP on loopback only, our own port and socket directory\n"
                f"listen_addresses = '{LOOPBACK}'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "max_connections = 60\n"
                "logging_collector = off\n"
            )

    def start(self) -> None:
        self._pg_ctl("start", "-w", "-t", "30", "-l", str(self.log))

    def stop(self, mode: str) -> None:
        self._pg_ctl("stop", "-m", mode, "-w", "-t", "30")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def cleanup(self) -> None:
        """Stop the cluster if it still runs: pg_ctl first, then SIGKILL to our postmaster."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        with contextlib.suppress(Exception):
            self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "20", timeout=30)
        if self.postmaster_pid() is None:
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return  # gone
        if str(self.data).encode() in cmdline:  # our postmaster, not a recycled PID
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------------------------ service


class Service:
    """`taskapi serve` as a child process, on 127.0.0.1:`port`."""

    def __init__(self, root: Path, port: int, database_url: str) -> None:
        self.port = port
        self.database_url = database_url
        self.log = root / "service.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @staticmethod
    def command() -> list[str]:
        for candidate in (Path(sys.executable).parent / "taskapi", ROOT / ".venv/bin/taskapi"):
            if candidate.exists():
                return [str(candidate), "serve"]
        uv = shutil.which("uv")
        if uv is None:
            raise Failure("neither .venv/bin/taskapi nor uv found")
        return [uv, "run", "taskapi", "serve"]

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            HOST=LOOPBACK,
            PORT=str(self.port),
            WORKERS="1",
            TASK_STORE="postgres",
            TASKAPI_MIGRATE_ON_START="true",
            AUTH_MODE="none",
            DB_CONNECT_TIMEOUT="5",
            DB_STATEMENT_TIMEOUT="10",
            LOG_LEVEL="warning",
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after the grace period; returns the exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=SHUTDOWN_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return process.returncode

    async def wait_ready(self) -> float:
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5.0) as client:
            while time.monotonic() - started < READY_WAIT:
                if not self.alive():
                    raise Failure(f"the service exited at start:\n{_tail(self.log)}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/ready")).status_code == 200:
                        return time.monotonic() - started
                await asyncio.sleep(0.2)
        raise Failure(f"/ready did not answer 200 within {READY_WAIT:.0f} s:\n{_tail(self.log)}")


# ------------------------------------------------------------------------------------ traffic


@dataclass(slots=True)
class Record:
    client: int
    user: str
    title: str
    request_id: str
    started: float
    ended: float = 0.0
    status: int | None = None  # None: no HTTP answer (timeout, connection error)
    error: str | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    task_id: str | None = None

    @property
    def elapsed(self) -> float:
        return self.ended - self.started

    def describe(self) -> str:
        answer = self.status if self.status is not None else self.error
        return (
            f"[client {self.client} {self.request_id} at {self.started:.2f}s, "
            f"{self.elapsed:.3f}s] {answer} {self.body[:200]!r}"
        )


@dataclass(slots=True)
class Round:
    mode: str
    stop_begun: float = 0.0
    down: float = 0.0  # pg_ctl stop returned: nothing listens
    restart_begun: float = 0.0
    up: float = 0.0  # pg_ctl start -w returned: accepting connections
    recovered: float | None = None  # end of the first 201 sent after `up`
    ended: float = 0.0
    ready_probe: tuple[int | None, float, str | None] | None = None  # status, elapsed, Retry-After
    ready_after: tuple[int | None, float] | None = None


class Traffic:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.run_id = uuid.uuid4().hex[:8]
        self.users = [f"fault-{self.run_id}-{i}" for i in range(CLIENTS)]
        self.records: list[Record] = []
        self.stop = asyncio.Event()
        self.t0 = time.monotonic()
        self.ended_early: str | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def client(self, index: int) -> None:
        user = self.users[index]
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=REQUEST_TIMEOUT, limits=limits
        ) as client:
            seq = 0
            while not self.stop.is_set():
                if self.now() >= TRAFFIC_LIMIT or len(self.records) >= MAX_REQUESTS:
                    self.ended_early = f"traffic bound reached after {self.now():.1f} s"
                    return
                seq += 1
                record = Record(
                    client=index,
                    user=user,
                    title=f"outage probe {self.run_id} {index}-{seq}",
                    request_id=f"fault-{self.run_id}-{index}-{seq}",
                    started=self.now(),
                )
                self.records.append(record)
                await self._send(client, record)
                await asyncio.sleep(PACE)

    async def _send(self, client: httpx.AsyncClient, record: Record) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT + 1):
                response = await client.post(
                    f"/api/{record.user}/tasks",
                    json={"title": record.title},
                    headers={"X-Request-ID": record.request_id},
                )
        except (httpx.HTTPError, TimeoutError) as error:
            record.ended = self.now()
            record.error = f"{type(error).__name__}: {error}"
            return
        record.ended = self.now()
        record.status = response.status_code
        record.body = response.text[:2000]
        record.headers = {k.lower(): v for k, v in response.headers.items()}
        if response.status_code == 201:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                record.task_id = str(response.json()["data"]["id"])

    async def probe_ready(self) -> tuple[int | None, float, str | None]:
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=self.base_url, timeout=REQUEST_TIMEOUT) as client:
            try:
                response = await client.get("/ready")
            except httpx.HTTPError:
                return None, time.monotonic() - started, None
        return response.status_code, time.monotonic() - started, response.headers.get("retry-after")

    def first_201_after(self, moment: float) -> Record | None:
        answered = [
            r for r in self.records if r.status == 201 and r.started >= moment and r.ended > 0
        ]
        return min(answered, key=lambda r: r.ended, default=None)


async def drive(service: Service, cluster: Cluster) -> tuple[Traffic, list[Round]]:
    traffic = Traffic(service.base_url)
    rounds: list[Round] = []
    clients = [asyncio.create_task(traffic.client(i)) for i in range(CLIENTS)]
    try:
        await asyncio.sleep(WARMUP)
        for mode in STOP_MODES:
            this = Round(mode)
            rounds.append(this)
            this.stop_begun = traffic.now()
            await asyncio.to_thread(cluster.stop, mode)
            this.down = traffic.now()
            await asyncio.sleep(OUTAGE / 2)
            this.ready_probe = await traffic.probe_ready()
            await asyncio.sleep(max(0.0, this.down + OUTAGE - traffic.now()))
            this.restart_begun = traffic.now()
            await asyncio.to_thread(cluster.start)
            this.up = traffic.now()
            while traffic.now() < this.up + RECOVERY_LIMIT and not traffic.ended_early:
                first = traffic.first_201_after(this.up)
                if first is not None:
                    this.recovered = first.ended
                    break
                await asyncio.sleep(0.05)
            if this.recovered is None:
                break  # no recovery: more rounds would tell nothing
            await asyncio.sleep(STEADY)
            status, elapsed = (await traffic.probe_ready())[:2]
            this.ready_after = (status, elapsed)
            this.ended = traffic.now()
    finally:
        traffic.stop.set()
        await asyncio.gather(*clients, return_exceptions=True)
    for this in rounds:
        this.ended = this.ended or traffic.now()
    return traffic, rounds


# ------------------------------------------------------------------------------ verification


async def create_database(port: int) -> None:
    connection = await asyncpg.connect(
        host=LOOPBACK, port=port, user="postgres", database="postgres", timeout=10
    )
    try:
        await connection.execute("CREATE DATABASE taskapi")
    finally:
        await connection.close()


async def stored_tasks(port: int, users: list[str]) -> dict[str, tuple[str, str]]:
    connection = await asyncpg.connect(
        host=LOOPBACK, port=port, user="postgres", database="taskapi", timeout=10
    )
    try:
        rows = await connection.fetch(
            "SELECT id::text AS id, user_id, title FROM tasks WHERE user_id = ANY($1::text[])",
            users,
            timeout=10,
        )
    finally:
        await connection.close()
    return {row["id"]: (row["user_id"], row["title"]) for row in rows}


class Checks:
    def __init__(self) -> None:
        self.results: list[tuple[bool, str, str]] = []

    def check(self, ok: bool, name: str, detail: str = "") -> bool:
        self.results.append((ok, name, detail))
        return ok

    @property
    def passed(self) -> bool:
        return all(ok for ok, _, _ in self.results)

    def print(self) -> None:
        print("\nchecks:")
        for ok, name, detail in self.results:
            print(f"  {'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""))


def _samples(records: list[Record], limit: int = 5) -> str:
    return "".join(f"\n      {r.describe()}" for r in records[:limit])


def _bad_503(record: Record) -> str | None:
    """Why a 503 breaks the contract, or None."""
    retry_after = record.headers.get("retry-after", "")
    if not retry_after.strip().isdigit():
        return f"Retry-After is {retry_after!r}"
    lowered = record.body.lower()
    leaks = [marker for marker in LEAK_MARKERS if marker in lowered]
    if leaks:
        return f"body leaks {leaks}"
    try:
        body = json.loads(record.body)
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict) or body.get("success") is not False:
        return "no success: false"
    error = body.get("error")
    if not isinstance(error, dict) or error.get("code") != "SERVICE_UNAVAILABLE":
        return "error.code is not SERVICE_UNAVAILABLE"
    if not isinstance(error.get("message"), str) or not error["message"]:
        return "no error.message"
    if error.get("request_id") != record.request_id:
        return f"error.request_id {error.get('request_id')!r} is not the request's"
    if record.headers.get("x-request-id") != record.request_id:
        return "X-Request-ID header is not the request's"
    return None


def evaluate(  # noqa: PLR0915 (one linear report)
    traffic: Traffic, rounds: list[Round], stored: dict[str, tuple[str, str]], checks: Checks
) -> None:
    records = traffic.records
    hang = HANG_LIMIT + HANG_MARGIN
    by_status: dict[str, int] = {}
    for r in records:
        key = str(r.status) if r.status is not None else "no answer"
        by_status[key] = by_status.get(key, 0) + 1
    created = [r for r in records if r.status == 201]
    unavailable = [r for r in records if r.status == 503]
    other = [r for r in records if r.status not in (201, 503)]
    print("\nfigures:")
    print(f"  requests sent:           {len(records)} from {CLIENTS} clients")
    print(f"  201 Created:             {len(created)}")
    print(f"  503 Service Unavailable: {len(unavailable)}")
    print(f"  other answers:           {len(other)} {by_status}")
    latencies = [r.elapsed for r in records]
    slowest = max(records, key=lambda r: r.elapsed, default=None)
    print(
        f"  latency, whole run:      max {max(latencies, default=0):.3f} s, "
        f"p99 {_percentile(latencies, 0.99):.3f} s, p50 {_percentile(latencies, 0.5):.3f} s"
    )

    checks.check(
        any(
            r.status == 201 and r.ended < (rounds[0].stop_begun if rounds else 1e9) for r in records
        ),
        "creates answer 201 before the outage",
    )
    checks.check(
        not [r for r in records if r.status == 500],
        "no 500",
        _samples([r for r in records if r.status == 500]),
    )
    checks.check(
        not other,
        "no status besides 201 and 503, no request without an answer",
        f"{len(other)} others:" + _samples(other) if other else "",
    )
    checks.check(
        slowest is None or slowest.elapsed <= hang,
        f"no hang: every answer within {HANG_LIMIT:.0f} s (+{HANG_MARGIN} s margin)",
        f"slowest {slowest.describe()}" if slowest else "",
    )
    bad = [(r, why) for r in unavailable if (why := _bad_503(r)) is not None]
    checks.check(
        not bad,
        "every 503 has Retry-After, the error envelope (SERVICE_UNAVAILABLE, the request id) "
        "and no driver text",
        f"{len(bad)} bad, e.g. {bad[0][1]}: {bad[0][0].describe()}" if bad else "",
    )
    unparsed = [r for r in created if r.task_id is None]
    checks.check(not unparsed, "every 201 carries data.id", _samples(unparsed))

    for number, this in enumerate(rounds, 1):
        window = [r for r in records if r.started < this.up and r.ended > this.stop_begun]
        in_window = [r.elapsed for r in window]
        dead = [r for r in records if r.started >= this.down and r.ended <= this.restart_begun]
        # Sent and answered while PostgreSQL was up again (and before the next round's stop).
        after_up = [r for r in records if r.started >= this.up and 0 < r.ended <= this.ended]
        print(f"\n  round {number}: pg_ctl stop -m {this.mode}")
        print(
            f"    PostgreSQL away:       {this.stop_begun:.2f} s -> {this.up:.2f} s "
            f"(stop took {this.down - this.stop_begun:.2f} s, "
            f"restart took {this.up - this.restart_begun:.2f} s)"
        )
        print(
            f"    requests in outage:    {len(window)} "
            f"(201 {sum(r.status == 201 for r in window)}, "
            f"503 {sum(r.status == 503 for r in window)}, "
            f"other {sum(r.status not in (201, 503) for r in window)})"
        )
        print(
            f"    outage latency:        max {max(in_window, default=0):.3f} s, "
            f"p99 {_percentile(in_window, 0.99):.3f} s"
        )
        if this.ready_probe is not None:
            status, elapsed, retry_after = this.ready_probe
            print(
                f"    /ready during outage:  {status} in {elapsed:.3f} s "
                f"(Retry-After {retry_after})"
            )
        checks.check(
            bool(dead) and all(r.status == 503 for r in dead),
            f"round {number} ({this.mode}): with PostgreSQL down every create answers 503",
            f"{len(dead)} requests, statuses "
            f"{sorted({str(r.status or r.error) for r in dead})}"
            + _samples([r for r in dead if r.status != 503]),
        )
        checks.check(
            this.ready_probe is not None
            and this.ready_probe[0] == 503
            and this.ready_probe[1] <= hang
            and this.ready_probe[2] is not None,
            f"round {number} ({this.mode}): /ready answers 503 with Retry-After during the outage",
            str(this.ready_probe),
        )
        if this.recovered is None:
            print(f"    recovery:              NONE within {RECOVERY_LIMIT:.0f} s")
            checks.check(
                False,
                f"round {number} ({this.mode}): recovers by itself",
                f"no 201 within {RECOVERY_LIMIT:.0f} s of PostgreSQL accepting connections; "
                f"answers after it:{_samples(after_up[-5:])}"
                + (f"; {traffic.ended_early}" if traffic.ended_early else ""),
            )
            continue
        late = [r for r in after_up if r.started >= this.recovered + SETTLE and r.status != 201]
        print(
            f"    time to recovery:      {this.recovered - this.up:.3f} s after PostgreSQL "
            f"accepted connections ({this.recovered - this.restart_begun:.3f} s after "
            f"the restart began)"
        )
        print(
            f"    503 after it was back: {sum(r.status == 503 for r in after_up)} "
            f"of {len(after_up)} requests"
        )
        if this.ready_after is not None:
            print(
                f"    /ready after recovery: {this.ready_after[0]} in {this.ready_after[1]:.3f} s"
            )
        checks.check(
            this.recovered - this.up <= RECOVERY_LIMIT,
            f"round {number} ({this.mode}): recovers by itself within {RECOVERY_LIMIT:.0f} s",
            f"{this.recovered - this.up:.3f} s",
        )
        checks.check(
            not late,
            f"round {number} ({this.mode}): only 201s from {SETTLE:.0f} s after recovery on",
            _samples(late),
        )
        checks.check(
            this.ready_after is not None and this.ready_after[0] == 200,
            f"round {number} ({this.mode}): /ready answers 200 after recovery",
            str(this.ready_after),
        )
    checks.check(
        len(rounds) == len(STOP_MODES),
        f"all {len(STOP_MODES)} rounds ran",
        f"{len(rounds)} ran" + (f"; {traffic.ended_early}" if traffic.ended_early else ""),
    )

    acknowledged = {r.task_id: r for r in created if r.task_id is not None}
    lost = [r for task_id, r in acknowledged.items() if task_id not in stored]
    altered = [
        r
        for task_id, r in acknowledged.items()
        if task_id in stored and stored[task_id] != (r.user, r.title)
    ]
    unacknowledged = {
        task_id: row for task_id, row in stored.items() if task_id not in acknowledged
    }
    by_title = {r.title: r for r in records}
    unacked_answers: dict[str, int] = {}
    for _, title in unacknowledged.values():
        sent = by_title.get(title)
        key = "unknown" if sent is None else str(sent.status or sent.error)
        unacked_answers[key] = unacked_answers.get(key, 0) + 1
    print(f"\n  rows in tasks (ours):    {len(stored)}")
    print(f"  acknowledged writes:     {len(acknowledged)}")
    print(f"  acknowledged writes lost: {len(lost)}")
    print(
        f"  rows without a 201:      {len(unacknowledged)} "
        f"(committed, answer lost; their answers: {unacked_answers or '-'})"
    )
    checks.check(not lost, "zero acknowledged writes lost", _samples(lost))
    checks.check(
        not altered, "every acknowledged task is stored as acknowledged", _samples(altered)
    )


# -------------------------------------------------------------------------------------- main


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


async def _experiment(
    cluster: Cluster, service: Service, checks: Checks
) -> tuple[Traffic, list[Round], dict[str, tuple[str, str]]]:
    await create_database(cluster.port)
    service.start()
    took = await service.wait_ready()
    pid = service.process.pid if service.process else None
    print(f"service ready in {took:.2f} s at {service.base_url} (pid {pid})")
    traffic, rounds = await drive(service, cluster)
    print(f"traffic ran {traffic.now():.1f} s")
    checks.check(service.alive(), "the service process is still running after the outages")
    stored = await stored_tasks(cluster.port, traffic.users)
    return traffic, rounds, stored


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _terminate)
    if not (PG_BIN / "initdb").exists():
        print(f"FAIL: PostgreSQL 15 binaries not found in {PG_BIN}")
        return 2
    checks = Checks()
    workdir = Path(tempfile.mkdtemp(prefix="taskapi-fault-"))
    cluster = Cluster(workdir, _free_port())
    service = Service(workdir, _free_port(), "")
    service.database_url = f"postgresql://postgres@{LOOPBACK}:{cluster.port}/taskapi"
    outcome: tuple[Traffic, list[Round], dict[str, tuple[str, str]]] | None = None
    try:
        try:
            cluster.init()
            cluster.start()
            print(f"PostgreSQL 15 on {LOOPBACK}:{cluster.port} (pid {cluster.postmaster_pid()})")
            outcome = asyncio.run(_experiment(cluster, service, checks))
        finally:
            code = service.stop()
            if code is not None:
                print(f"service stopped (exit code {code})")
        if outcome is not None:
            evaluate(*outcome, checks)
    except Failure as error:
        checks.check(False, "the experiment ran", str(error))
    except Exception as error:
        traceback.print_exc()
        checks.check(False, "the experiment ran", f"{type(error).__name__}: {error}")
    finally:
        try:
            cluster.cleanup()
        finally:
            service_log = _tail(service.log, 25)
            unhandled = _unhandled_errors(service.log)
            shutil.rmtree(workdir, ignore_errors=True)
    checks.print()
    if not checks.passed:
        print(f"\nservice log (tail):\n{service_log}")
        if unhandled:
            print(f"\nunhandled errors in the service log:\n{unhandled}")
    print(f"\nrun time: {time.monotonic() - started:.1f} s")
    print("RESULT: PASS" if checks.passed else "RESULT: FAIL")
    return 0 if checks.passed else 1


if __name__ == "__main__":
    sys.exit(main())
