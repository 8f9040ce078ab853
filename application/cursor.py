"""Opaque, signed keyset cursors, bound to the listing they came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Final
from uuid import UUID

from domain.errors import ValidationFailed
from domain.listing import Position, SortField, SortValue, TaskFilter, TaskOrder

_SIGNATURE_BYTES: Final = 16


class InvalidCursor(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("cursor", "is not a valid cursor for this listing")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: only the exact spelling `_b64encode` makes is accepted."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


def _listing_fingerprint(order: TaskOrder, task_filter: TaskFilter) -> str:
    """Ties a cursor to its sort and filters, so it cannot page another listing."""
    parts = [
        str(order),
        repr(task_filter.completed),
        repr(task_filter.priority and task_filter.priority.value),
        repr(task_filter.search),
        repr(task_filter.due_before and task_filter.due_before.isoformat()),
        repr(task_filter.due_after and task_filter.due_after.isoformat()),
    ]
    if task_filter.tags is not None:  # absent for version 1 listings: their cursors still work
        parts.append(",".join(task_filter.tags))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _encode_value(value: SortValue) -> str | int | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode_value(field: SortField, raw: object) -> SortValue:
    match field:
        case SortField.PRIORITY:
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
        case SortField.TITLE:
            if isinstance(raw, str):
                return raw
        case SortField.DUE_AT if raw is None:
            return None
        case _:
            if isinstance(raw, str):
                parsed = datetime.fromisoformat(raw)
                if parsed.tzinfo is not None:
                    return parsed
    raise InvalidCursor


class CursorCodec:
    """Encodes a page's last position; refuses tokens that were altered or belong elsewhere."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, position: Position, order: TaskOrder, task_filter: TaskFilter) -> str:
        body = {
            "l": _listing_fingerprint(order, task_filter),
            "v": _encode_value(position.value),
            "i": position.id.hex,
        }
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._sign(payload))}"

    def decode(self, token: str, order: TaskOrder, task_filter: TaskFilter) -> Position:
        try:
            payload_text, signature_text = token.split(".")
            payload = _b64decode(payload_text)
            signature = _b64decode(signature_text)
        except (ValueError, binascii.Error):
            raise InvalidCursor from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursor
        try:
            body = json.loads(payload)
            if body["l"] != _listing_fingerprint(order, task_filter):
                raise InvalidCursor
            return Position(_decode_value(order.field, body["v"]), UUID(hex=body["i"]))
        except (ValueError, KeyError, TypeError):
            raise InvalidCursor from None
