"""Conditional requests: a task's ETag is its version; If-Match and If-None-Match name them."""

from __future__ import annotations

import re
from typing import Final

_ENTITY_TAG: Final = re.compile(r'\s*(W/)?"([^"]*)"\s*')
_VERSION_TAG: Final = re.compile(r"[1-9][0-9]{0,8}")


def etag(version: int) -> str:
    return f'"{version}"'


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """(weak, opaque-tag) pairs of an If-Match / If-None-Match list."""
    tags = []
    for part in header.split(","):
        match = _ENTITY_TAG.fullmatch(part)
        if match:
            tags.append((match[1] is not None, match[2]))
    return tags


def _version_of(tag: str) -> int | None:
    """Our ETags are versions in decimal, no leading zeros: any other tag names no version."""
    return int(tag) if _VERSION_TAG.fullmatch(tag) else None


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an If-Match allows: None for no header or `*`. Weak tags never match."""
    if if_match is None or if_match.strip() == "*":
        return None
    versions = (_version_of(tag) for weak, tag in _entity_tags(if_match) if not weak)
    return frozenset(v for v in versions if v is not None)


def none_match(if_none_match: str | None, version: int) -> bool:
    """True when If-None-Match names this version (weak comparison) or is `*`."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(_version_of(tag) == version for _, tag in _entity_tags(if_none_match))
