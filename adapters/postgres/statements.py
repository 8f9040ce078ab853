"""SQLAlchemy Core statements compiled once to PostgreSQL SQL, run on asyncpg directly.

The statements are written with SQLAlchemy (typed columns, no hand-built SQL), compiled for
asyncpg's `$n` placeholders at import (or once per shape of a dynamic query), and executed
on the asyncpg connection: no per-request compilation, result processing or greenlet hop,
which measured as most of a request's CPU time (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

_DIALECT: Final = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, statement: sa.ClauseElement) -> Statement:
        compiled = statement.compile(dialect=_DIALECT)
        return cls(str(compiled), tuple(getattr(compiled, "positiontup", None) or ()))

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] for name in self.names]


def rowcount(status: str) -> int:
    """asyncpg's command status ("DELETE 3", "UPDATE 1", "INSERT 0 1") as a row count."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0
