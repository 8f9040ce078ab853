"""Timestamps from text: one RFC 3339 parser for every entrypoint.

msgspec's, the one that reads the API's request bodies (`Timestamp` in http/schemas.py) and
its query parameters, so the CLI's options and task files take exactly the API's spellings.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from application.import_export import checked_timestamp


def read_timestamp(text: str) -> datetime | str:
    """The datetime `text` spells in RFC 3339 (naive if it has no offset), else `text` as it
    is, for the core's check to refuse with its reason."""
    try:
        return msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        return text


def parse_timestamp(field: str, text: str) -> datetime:
    """An RFC 3339 timestamp with an offset (`Z` or `+01:00`), as the API takes it; else
    ValidationFailed naming `field`."""
    return checked_timestamp(field, read_timestamp(text))
