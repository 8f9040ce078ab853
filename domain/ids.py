"""Task ids: made in the core, never by the database."""

from __future__ import annotations

import os
import re
import time
from typing import Final
from uuid import UUID

# The one spelling of a task id the API, the command line and task files take: 8-4-4-4-12
# hexadecimal digits (UUID() itself would also take braces, a urn: prefix, no hyphens).
UUID_PATTERN: Final = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
UUID_RULE: Final = "must be a UUID (8-4-4-4-12 hexadecimal digits)"
_UUID: Final = re.compile(UUID_PATTERN)


def is_task_id(text: str) -> bool:
    return _UUID.fullmatch(text) is not None


def new_task_id() -> UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so new rows land at the end of the primary key index."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return UUID(int=value)
