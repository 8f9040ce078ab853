"""Behind pgbouncer in transaction mode (what Neon's pooled endpoint is): no prepared-statement
errors, with consecutive transactions landing on different server connections."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.engine import PoolSettings, behind_transaction_pooler
from adapters.postgres.storage import PostgresStorage
from application.commands import (
    CreateTaskCommand,
    ListTasksQuery,
    PatchTaskCommand,
    TaskFields,
    TaskRef,
)
from application.cursor import CursorCodec
from application.tasks import CreateTask, GetTask, ListTasks, PatchTask
from domain.task import TaskChanges
from tests.conftest import FixedClock

pytestmark = pytest.mark.postgres

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def pgbouncer_url(database_url: str, engine: AsyncEngine) -> Iterator[str]:
    """pgbouncer, transaction mode, two server connections, in front of the (migrated) test
    database."""
    upstream = make_url(database_url)
    if not upstream.host or "host" in upstream.query:
        pytest.skip(
            "runs when DATABASE_URL names a TCP server (the embedded one has a socket only)"
        )
    if not Path(PGBOUNCER).exists():
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)")
    workdir = Path(tempfile.mkdtemp(prefix="taskapi-pgbouncer-"))
    workdir.chmod(0o777)
    port = _free_port()
    user = upstream.username or "postgres"
    (workdir / "users.txt").write_text(f'"{user}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
{upstream.database} = host={upstream.host} port={upstream.port or 5432} dbname={upstream.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""
    )
    for child in workdir.iterdir():
        child.chmod(0o666)
    command = [PGBOUNCER, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]  # pgbouncer refuses to run as root
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (workdir / "pgbouncer.log").read_text(errors="replace")
                    pytest.fail(f"pgbouncer did not start: {log[-2000:]}")
                time.sleep(0.05)
        yield upstream.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def pooled_storage(pgbouncer_url: str, tmp_path: Path) -> AsyncIterator[PostgresStorage]:
    storage = PostgresStorage(
        url=pgbouncer_url,
        data_dir=tmp_path,
        pool=PoolSettings(size=10, transaction_pooler=True),
        migrate_on_start=False,
    )
    await storage.start()
    yield storage
    await storage.stop()


async def test_the_service_works_through_a_transaction_pooler(
    pooled_storage: PostgresStorage, owner: str
) -> None:
    uow = pooled_storage.unit_of_work_factory()
    clock = FixedClock()
    create = CreateTask(uow, clock, max_tasks_per_user=1000)
    get, patch = GetTask(uow), PatchTask(uow, clock, 10_000)
    lister = ListTasks(uow, CursorCodec(b"k"))

    async def session(i: int) -> None:
        created = await create(CreateTaskCommand(owner, TaskFields(title=f"t{i}")))
        ref = TaskRef(owner, created.task.id)
        for round_ in range(5):  # the same statements again, on whichever server connection
            await get(ref)
            await patch(PatchTaskCommand(ref, TaskChanges(title=f"t{i} r{round_}")))
            await lister(ListTasksQuery(owner, limit=5))

    await asyncio.gather(*(session(i) for i in range(20)))

    page = await lister(ListTasksQuery(owner, limit=100))
    assert len(page.items) == 20
    assert all(task.version == 6 for task in page.items)


def test_neon_pooled_endpoints_are_recognised() -> None:
    neon = "postgresql://u:p@ep-cool-1234-pooler.eu-central-1.aws.neon.tech/db?sslmode=require"
    direct = "postgresql://u:p@ep-cool-1234.eu-central-1.aws.neon.tech/db?sslmode=require"

    assert behind_transaction_pooler(neon)
    assert not behind_transaction_pooler(direct)
    assert behind_transaction_pooler(direct, "true")
    assert not behind_transaction_pooler(neon, "false")
