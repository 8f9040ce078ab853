"""Turning the raw request (path, headers, body) into values the use cases take."""

from __future__ import annotations

import re
from typing import Any, Final, TypeVar
from uuid import UUID

import msgspec

from domain.errors import ValidationFailed
from domain.task import check_owner
from entrypoints.http.errors import (
    FieldError,
    MalformedRequest,
    RequestInvalid,
    describe_decode_error,
)

T = TypeVar("T")

_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_TOO_DEEP: Final = "the request body is not valid JSON, or is nested too deeply"
_ENTITY_TAG: Final = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def owner_from_path(user_id: str) -> str:
    try:
        return check_owner(user_id)
    except ValidationFailed as error:
        raise RequestInvalid.of("user_id", error.reason) from None


_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def task_id_from_path(task_id: str) -> UUID:
    if not _UUID.fullmatch(task_id):
        raise RequestInvalid.of("task_id", "must be a UUID (8-4-4-4-12 hexadecimal digits)")
    return UUID(task_id)


def decode_body(body: bytes, shape: type[T]) -> T:
    """Strict JSON decoding (no "true" for true); the empty body is a 400."""
    if not body.strip():
        raise MalformedRequest("a JSON request body is required")
    decoder = _decoders.get(shape)
    if decoder is None:
        decoder = _decoders[shape] = msgspec.json.Decoder(shape)
    try:
        result: T = decoder.decode(body)
    except msgspec.ValidationError as error:
        # msgspec stops at the first type error; a body that is not JSON at all past that
        # point is still a malformed request, not a validation error.
        try:
            msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError):
            raise MalformedRequest("the request body is not valid JSON") from None
        except RecursionError:
            raise MalformedRequest(_TOO_DEEP) from None
        raise RequestInvalid([describe_decode_error(str(error))]) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise MalformedRequest("the request body is not valid JSON") from None
    except RecursionError:  # no body of ours nests; msgspec gives up near 1,000 levels
        raise MalformedRequest(_TOO_DEEP) from None
    return result


def decode_optional_body(body: bytes, shape: type[T]) -> T | None:
    return None if not body.strip() else decode_body(body, shape)


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """(weak, opaque-tag) pairs of an If-Match / If-None-Match list."""
    tags = []
    for part in header.split(","):
        match = _ENTITY_TAG.fullmatch(part)
        if match:
            tags.append((match[1] is not None, match[2]))
    return tags


_VERSION_TAG: Final = re.compile(r"[1-9][0-9]{0,8}")


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


def etag(version: int) -> str:
    return f'"{version}"'


__all__ = [
    "FieldError",
    "decode_body",
    "decode_optional_body",
    "etag",
    "expected_versions",
    "none_match",
    "owner_from_path",
    "task_id_from_path",
]
