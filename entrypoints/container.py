"""The composition root: the only place that chooses adapters and wires use cases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.memory.unit_of_work import InMemoryStorage
from adapters.postgres.engine import PoolSettings, behind_transaction_pooler
from adapters.postgres.storage import PostgresStorage
from application.changes import (
    ChangeSignals,
    FollowChanges,
    PurgeChanges,
    ReadChanges,
    RecordDueReminders,
    SyncTokens,
)
from application.cursor import CursorCodec
from application.import_export import ExportTasks, ImportTasks
from application.tasks import (
    ClearCompleted,
    CreateTask,
    DeleteTask,
    GetTask,
    ListTags,
    ListTasks,
    PatchTask,
    PurgeIdempotencyKeys,
    ReplaceTask,
    SetCompletion,
    TaskStatistics,
)
from entrypoints.config import Settings
from entrypoints.cursor_secret import cursor_secret
from entrypoints.http.auth import JwtVerifier, TokenVerifier
from entrypoints.http.jwks import JwksVerifier

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.stores.base import Store

    from application.storage import Storage
    from application.unit_of_work import UnitOfWorkFactory


def _pool_settings(settings: Settings) -> PoolSettings:
    return PoolSettings(
        size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_timeout_seconds=settings.db_connect_timeout,
        statement_timeout_seconds=settings.db_statement_timeout,
        transaction_pooler=settings.database_url is not None
        and behind_transaction_pooler(settings.database_url, settings.db_transaction_pooler),
    )


def _token_verifier(settings: Settings) -> TokenVerifier:
    """AUTH_MODE=jwt: one key in memory, or an identity provider's key set."""
    if settings.jwt_jwks_url is not None:
        return JwksVerifier(
            settings.jwt_jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
            cache_seconds=settings.jwt_jwks_cache_seconds,
        )
    return JwtVerifier(
        secret=settings.jwt_secret,
        public_key=settings.jwt_public_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_seconds=settings.jwt_leeway_seconds,
    )


def _unit_of_work_factory(storage: Storage[Store]) -> UnitOfWorkFactory:
    # Resolved on first use, after the storage has started (the engine exists by then).
    return storage.unit_of_work_factory()


def _change_signals(storage: Storage[Store]) -> Callable[[], Awaitable[ChangeSignals]]:
    return storage.change_signals


class Container(containers.DeclarativeContainer):
    """Synchronous providers only: the async lifecycle is the storage's start() and stop()."""

    settings = providers.Dependency(instance_of=Settings)

    storage = providers.Selector(
        settings.provided.task_store,
        postgres=providers.Singleton(
            PostgresStorage,
            url=settings.provided.database_url,
            data_dir=settings.provided.data_dir,
            pool=providers.Callable(_pool_settings, settings),
            migrate_on_start=settings.provided.migrate_on_start,
        ),
        memory=providers.Singleton(InMemoryStorage),
    )
    unit_of_work = providers.Singleton(_unit_of_work_factory, storage)
    clock = providers.Singleton(SystemClock)
    # Built only in AUTH_MODE=jwt; tests override it (a JwksVerifier with a fake clock).
    token_verifier = providers.Singleton(_token_verifier, settings)
    cursors = providers.Singleton(
        CursorCodec, providers.Callable(lambda s: cursor_secret(s).encode(), settings)
    )

    create_task = providers.Singleton(
        CreateTask, unit_of_work, clock, settings.provided.max_tasks_per_user
    )
    get_task = providers.Singleton(GetTask, unit_of_work)
    list_tasks = providers.Singleton(ListTasks, unit_of_work, cursors)
    task_statistics = providers.Singleton(TaskStatistics, unit_of_work, clock)
    list_tags = providers.Singleton(ListTags, unit_of_work)
    replace_task = providers.Singleton(
        ReplaceTask, unit_of_work, clock, settings.provided.max_tasks_per_user
    )
    patch_task = providers.Singleton(
        PatchTask, unit_of_work, clock, settings.provided.max_tasks_per_user
    )
    set_completion = providers.Singleton(
        SetCompletion, unit_of_work, clock, settings.provided.max_tasks_per_user
    )
    delete_task = providers.Singleton(DeleteTask, unit_of_work)
    clear_completed = providers.Singleton(ClearCompleted, unit_of_work)
    purge_idempotency_keys = providers.Singleton(PurgeIdempotencyKeys, unit_of_work, clock)
    import_tasks = providers.Singleton(
        ImportTasks, unit_of_work, clock, settings.provided.max_tasks_per_user
    )
    export_tasks = providers.Singleton(ExportTasks, list_tasks)
    sync_tokens = providers.Singleton(
        SyncTokens, providers.Callable(lambda s: cursor_secret(s).encode(), settings)
    )
    read_changes = providers.Singleton(ReadChanges, unit_of_work, sync_tokens)
    follow_changes = providers.Singleton(
        FollowChanges,
        read_changes,
        providers.Callable(_change_signals, storage),
        clock,
        settings.provided.events_keepalive_seconds,
    )
    record_due_reminders = providers.Singleton(RecordDueReminders, unit_of_work, clock)
    purge_changes = providers.Singleton(
        PurgeChanges, unit_of_work, clock, settings.provided.changes_retention_days
    )


def build_container(settings: Settings | None = None) -> Container:
    return Container(settings=settings or Settings.from_env())
