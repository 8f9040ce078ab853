"""Creates per second through the service's create path (CreateTask on PostgresStorage, no
HTTP), on databases given by URL; short, alternating rounds, so that two schemas meet the
same noise.

    # the cap's lock of migration 0005 (advisory) against 0006's (task_counts row), side by side:
    uv run python bench/creates.py --target 0005=postgresql://postgres@127.0.0.1:5432/a \\
                                   --target head=postgresql://postgres@127.0.0.1:5432/b

Each --target [LABEL:]REVISION=URL[,URL...] is a database, migrated to REVISION (an id or
`head`) when its schema is behind it (never downgraded); several URLs are entry nodes of one
database (Citus: the coordinator and workers), which the clients take in turn. The
repository's create statement is the same at both revisions; only the function it calls (the
lock and the count) differs. Every round runs CONCURRENCY clients for SECONDS on each target
in turn; the output is each target's creates/s per round, the median and the spread.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from adapters.clock import SystemClock
from adapters.postgres.engine import create_engine
from adapters.postgres.migrations import migrate
from adapters.postgres.storage import PostgresStorage
from application.commands import CreateTaskCommand, TaskFields
from application.tasks import CreateTask


async def _drive(creates: list[CreateTask], users: list[str], seconds: float, clients: int) -> int:
    done = 0
    stop = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal done
        create = creates[n % len(creates)]
        while time.perf_counter() < stop:
            await create(CreateTaskCommand(random.choice(users), TaskFields(title="bench")))
            done += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return done


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--target", action="append", required=True, metavar="[LABEL:]REVISION=URL[,URL]"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()

    targets: list[tuple[str, list[PostgresStorage]]] = []
    for spec in args.target:
        name, _, urls = spec.partition("=")
        entries = urls.split(",")
        engine = create_engine(entries[0], poolclass=sa.NullPool)
        await migrate(engine, name.rpartition(":")[2])
        await engine.dispose()
        storages = [PostgresStorage(u, Path("unused"), migrate_on_start=False) for u in entries]
        for storage in storages:
            await storage.start()
        targets.append((name, storages))
    users = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(args.users)]
    clock = SystemClock()
    rates: dict[str, list[float]] = {name: [] for name, _ in targets}
    try:
        for _, storages in targets:  # warm-up: pools filled, plans cached
            creates = [CreateTask(s.unit_of_work_factory(), clock, 10**9) for s in storages]
            await _drive(creates, users, 1.0, args.concurrency)
        for round_ in range(args.rounds):
            order = targets if round_ % 2 == 0 else targets[::-1]
            for name, storages in order:
                creates = [CreateTask(s.unit_of_work_factory(), clock, 10**9) for s in storages]
                done = await _drive(creates, users, args.seconds, args.concurrency)
                rates[name].append(done / args.seconds)
                print(f"round {round_ + 1} {name}: {done / args.seconds:.0f} creates/s", flush=True)
    finally:
        for _, storages in targets:
            for storage in storages:
                await storage.stop()
    for name, values in rates.items():
        print(
            f"{name}: median {statistics.median(values):.0f} creates/s "
            f"(min {min(values):.0f}, max {max(values):.0f}, {len(values)} rounds)"
        )
    if len(rates) == 2:
        (a, first), (b, second) = rates.items()
        ratios = [y / x for x, y in zip(first, second, strict=True)]
        print(
            f"{b} / {a}: median {statistics.median(ratios):.3f} "
            f"(per round: {', '.join(f'{r:.3f}' for r in ratios)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
