"""Idempotency keys in memory, inside the unit of work's private copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.idempotency import KEY_LIFETIME, StoredResult
from domain.task import Task


@dataclass(frozen=True, slots=True)
class KeyRecord:
    fingerprint: str
    claimed_at: datetime
    task: Task | None = None


KeyTable = dict[tuple[str, str], KeyRecord]


class InMemoryIdempotencyStore:
    def __init__(self, records: KeyTable) -> None:
        self._records = records

    async def claim(
        self, owner: str, key: str, request_fingerprint: str, now: datetime
    ) -> StoredResult | None:
        record = self._records.get((owner, key))
        if record is None or record.claimed_at < now - KEY_LIFETIME:
            self._records[(owner, key)] = KeyRecord(request_fingerprint, now)
            return None
        return StoredResult(record.fingerprint, None if record.task is None else record.task.copy())

    async def remember(self, owner: str, key: str, task: Task) -> None:
        record = self._records[(owner, key)]
        self._records[(owner, key)] = KeyRecord(record.fingerprint, record.claimed_at, task.copy())

    async def purge(self, before: datetime) -> int:
        expired = [k for k, record in self._records.items() if record.claimed_at < before]
        for k in expired:
            del self._records[k]
        return len(expired)
