"""The adapter contract suite (tests/contract) on the distributed database, entering the
cluster by the coordinator and by a worker."""

from __future__ import annotations

import pytest

from adapters.postgres.storage import PostgresStorage
from application.unit_of_work import UnitOfWorkFactory
from tests.citus.conftest import MARKS, require_citus
from tests.contract.test_task_repository import *  # noqa: F403 (the same tests, collected here)

pytestmark = MARKS
require_citus()


@pytest.fixture(params=["coordinator", "worker"])
def uow(request: pytest.FixtureRequest) -> UnitOfWorkFactory:  # replaces the suite's fixture
    storage: PostgresStorage = request.getfixturevalue(request.param)
    return storage.unit_of_work_factory()
