"""Bounded fuzzing of body and query decoding, black box through the public app factory.

Random JSON (nested values, huge numbers, NaN tokens, NUL, lone surrogates, emoji, strings up
to ~70 KB, duplicate keys, the real field names mixed with unknown and read-only ones), bytes
that are not JSON or not UTF-8 and random content types go to every body-taking route; random
query strings (known names with random and near-valid values, unknown and repeated names,
percent-encoding, broken escapes) go to the list, the bulk delete and the stats.

Every answer must be the contract's envelope with a status that fits its code, never a 5xx;
where the contract decides the outcome (a 400, 413, 415, 422 naming a field, or a success) the
status must be that one, and a refused request must leave the user's tasks as they were. Each
example has its own user, so nothing one example does is seen by another.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from httpx import Response
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.e2e.helpers import MISSING_TASK_ID, TASK_FIELDS

Client = TestClient[Any]

MAX_BODY = 64 * 1024
EDITABLE = ("title", "description", "completed", "due_at", "priority")
READ_ONLY = ("id", "user_id", "version", "created_at", "updated_at", "completed_at")
PRIORITIES = ("none", "low", "medium", "high")
SORTS = tuple(
    f"{sign}{key}"
    for key in ("created_at", "updated_at", "due_at", "priority", "title")
    for sign in ("", "-")
)
STATUS_OF = {
    "MALFORMED_REQUEST": 400,
    "TASK_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "TASK_LIMIT_REACHED": 409,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "IDEMPOTENCY_KEY_IN_USE": 409,
    "PRECONDITION_FAILED": 412,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "VALIDATION_ERROR": 422,
}
OK = frozenset({200, 201})
FAR_FUTURE = "2999-12-01T17:00:00+02:00"

_FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
MEMORY = settings(_FUZZ, max_examples=200)
POSTGRES = settings(_FUZZ, max_examples=100)


# --- clients ---------------------------------------------------------------------------------


def _client(**storage: Any) -> Iterator[Client]:
    app = create_app(Container(settings=Settings(log_format="json", access_log=False, **storage)))
    with TestClient(app=app) as client:
        yield client


@pytest.fixture(scope="module")
def memory_client() -> Iterator[Client]:
    yield from _client(task_store="memory")


@pytest.fixture(scope="module")
def postgres_client(database_url: str) -> Iterator[Client]:
    yield from _client(task_store="postgres", database_url=database_url)


# --- values ----------------------------------------------------------------------------------

ODD_CHARS = [
    "\x00", "\ud800", "\udfff", "\udbff", "🥛", "\u2028", "\ufeff", "\u3000",
    "\u200b", "\xa0", " ", "\t", "\n", "\\", '"', "é", "\x7f", "\x1b",
]  # fmt: skip
LENGTHS = [1, 199, 200, 201, 499, 500, 501, 1999, 2000, 2001, 16_384, 65_000, 70_000]

short_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(ODD_CHARS)), max_size=30)
long_text = st.builds(
    lambda pad, unit, n: pad + unit * n + pad,
    st.sampled_from(["", " ", "\t\n "]),
    st.sampled_from(["x", "é", "🥛", " ", "\x00", "ab\ud800"]),
    st.sampled_from(LENGTHS),
)
odd_strings = st.sampled_from(["👩‍👩‍👧", "e\u0301", "\ud83e\udd5b", "\udd5b\ud83e", "🏳️‍🌈" * 3])
texts = st.one_of(short_text, short_text, long_text, odd_strings)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, 1.7976931348623157e308, -0.0]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(short_text, inner, max_size=4)
    ),
    max_leaves=10,
)

VALID_TIMESTAMPS = [
    "2026-12-01T17:00:00Z",
    "2026-12-01T17:00:00+02:00",
    "2026-12-01T17:00:00.123456Z",
    "2026-12-01T17:00:00.5-05:30",
    "2020-02-29T23:59:59+00:00",
    "1999-01-01T00:00:00-00:00",
]
INVALID_TIMESTAMPS = [
    "2026-12-01T17:00:00",
    "2026-12-01",
    "17:00:00Z",
    "tomorrow",
    "",
    "null",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-12-01T25:00:00Z",
    "2026-12-01T17:00:00+25:00",
    "2026-12-01T17:00:00ZZ",
    "2026-12-01T17:00:00Z ",
]
# Outside RFC 3339 or at its edges: the contract does not say, a careful server may go either way
# (but never a 5xx: year 0 and year 10000 in UTC are the classic crashes).
EDGE_TIMESTAMPS = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "2026-12-01t17:00:00z",
    "2026-12-01 17:00:00Z",
    "2026-12-01T17:00:60Z",
    "2026-12-01T17:00Z",
    "2026-12-01T17:00:00+02",
    "2026-12-01T17:00:00.1234567Z",
    "20261201T170000Z",
    "\uff12\uff10\uff12\uff16-12-01T17:00:00Z",
    "2026-12-01T17:00:00+23:59",
]
timestamps = st.one_of(
    st.sampled_from(VALID_TIMESTAMPS),
    st.sampled_from(INVALID_TIMESTAMPS),
    st.sampled_from(EDGE_TIMESTAMPS),
    short_text,
)
VALID_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "title": st.one_of(
        st.sampled_from(["Buy milk", "  padded\t", "🥛 emoji", "x" * 500, "é" * 500, "👩‍👩‍👧"]),
        st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=40).filter(
            lambda t: t.strip() == t.strip(" \t\n\r\x0b\x0c") != ""
        ),
    ),
    "description": st.one_of(
        st.none(),
        st.sampled_from(["", "d" * 2000, " keep ", "e\u0301"]),
        st.text(st.characters(exclude_characters="\x00"), max_size=40),
    ),
    "completed": st.booleans(),
    "due_at": st.one_of(st.none(), st.sampled_from(VALID_TIMESTAMPS)),
    "priority": st.sampled_from(PRIORITIES),
}
FUZZ_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "title": st.one_of(st.sampled_from(["", " ", "\u3000", "x" * 501]), texts, json_values),
    "description": st.one_of(texts, json_values),
    "completed": st.one_of(st.sampled_from(["true", "false", 0, 1, None]), json_values),
    "due_at": st.one_of(timestamps, json_values),
    "priority": st.one_of(st.sampled_from(["HIGH", "urgent", "", " high", None, 3]), json_values),
}
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    name: st.one_of(*[VALID_VALUES[name]] * 5, FUZZ_VALUES[name]) for name in EDITABLE
}
other_names = st.one_of(
    st.sampled_from(READ_ONLY),
    st.sampled_from(["Title", "title ", "tags", "colour", "", "__proto__", "$set", "body.title"]),
    st.sampled_from(["`", "title`x", "a`b`c", "'", "\\", "\u202e"]),
    short_text,
)


def _absent() -> st.SearchStrategy[Any]:
    return st.just(...)


@st.composite
def clean_objects(draw: st.DrawFn, route: str) -> list[tuple[str, Any]]:
    """A body the route accepts: some of its fields (title where required), valid values."""
    names = ("completed",) if route == "COMPLETE" else EDITABLE
    pairs = [
        (name, draw(VALID_VALUES[name]))
        for name in names
        if (name == "title" and route in {"POST", "PUT"})
        or route == "COMPLETE"
        or draw(st.booleans())
    ]
    return draw(st.permutations(pairs))


@st.composite
def flawed_objects(draw: st.DrawFn, route: str) -> list[tuple[str, Any]]:
    """A clean body with one flaw: a fuzzed value, a foreign key, a duplicate, a field left out."""
    pairs = draw(clean_objects(route))
    flaw = draw(st.sampled_from(["value", "value", "value", "foreign", "duplicate", "drop"]))
    if flaw == "value":
        name = draw(st.sampled_from(EDITABLE if route != "COMPLETE" else ("completed",)))
        pairs = [(n, v) for n, v in pairs if n != name]
        pairs.insert(draw(st.integers(0, len(pairs))), (name, draw(FUZZ_VALUES[name])))
    elif flaw == "foreign":
        name = draw(st.one_of(other_names, st.sampled_from(EDITABLE)))
        pairs.insert(draw(st.integers(0, len(pairs))), (name, draw(json_values)))
    elif flaw == "duplicate" and pairs:
        name = draw(st.sampled_from([n for n, _ in pairs]))
        pairs.insert(draw(st.integers(0, len(pairs))), (name, draw(FIELD_VALUES[name])))
    elif pairs:
        pairs.pop(draw(st.integers(0, len(pairs) - 1)))
    return pairs


@st.composite
def chaotic_objects(draw: st.DrawFn, route: str) -> list[tuple[str, Any]]:
    """Any of the fields with any values, foreign keys, duplicates."""
    pairs = [(name, draw(FIELD_VALUES[name])) for name in EDITABLE if draw(st.integers(0, 2)) == 0]
    for _ in range(draw(st.integers(0, 2))):
        pairs.append((draw(other_names), draw(json_values)))
    if pairs and draw(st.booleans()):
        name = draw(st.sampled_from([n for n, _ in pairs]))
        pairs.append((name, draw(FIELD_VALUES.get(name, json_values))))
    return draw(st.permutations(pairs))


def _dump(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)


def encode_object(pairs: list[tuple[str, Any]], ascii_only: bool, spaced: bool) -> bytes:
    gap = " \n\t" if spaced else ""
    members = [f"{_dump(k, ascii_only)}{gap}:{gap}{_dump(v, ascii_only)}" for k, v in pairs]
    text = gap + "{" + ("," + gap).join(members) + "}" + gap
    # Lone surrogates left unescaped make bytes that are not UTF-8: on purpose.
    return text.encode("utf-8", "surrogatepass")


RAW_BODIES = [
    b"",
    b"   \n ",
    b"{",
    b"}",
    b'{"title": "a",}',
    b"{'title': 'a'}",
    b'{"title": NaN}',
    b'{"title": Infinity}',
    b'{"completed": -Infinity}',
    b'{"title": "a"} x',
    b'{"title": "a"}{"title": "b"}',
    b'\xef\xbb\xbf{"title": "bom"}',
    b'{"title": "\xff"}',
    b'{"title": "\xc3"}',
    b'{"title": "\xed\xa0\x80"}',
    b'{"title": "a"}\x00',
    b"\x00",
    b'{"title": "a\\x"}',
    b'{"title": "\\ud800"}',
    b'{"title": "\\udc00\\ud800"}',
    b'{"title": "\\u0000"}',
    b'{"title": "tab\tinside"}',
    b'{"title": 1e999}',
    b'{"completed": 1e-999}',
    b'{"title": 00}',
    b'{"title": "a", "title": "b"}',
    b'{"completed": true, "completed": "yes"}',
    b'{"title": "a", "TITLE": "b"}',
    b"null",
    b"[]",
    b'"title"',
    b"3",
    b"true",
    b"[" * 5000 + b"]" * 5000,
    b"[" * 60_000,
    b"[" * 100_000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b'{"title": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    b'{"title": "x"}' + b" " * MAX_BODY,
    b'{"title": "' + b"x" * (MAX_BODY - 14) + b'"}',
    b'{"title": "' + b"x" * (MAX_BODY - 13) + b'"}',
]

JSON_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
]
OTHER_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/octet-stream",
]
# No content type, odd spellings and JSON-like types: the contract leaves these to judgement.
UNSURE_TYPES = [
    None,
    "APPLICATION/JSON",
    "application/json; charset=latin-1",
    "application/merge-patch+json",
    "text/json",
    "application/json, text/plain",
    "",
    "application/jsonx",
]
content_types = st.one_of(
    st.sampled_from(JSON_TYPES),
    st.sampled_from(JSON_TYPES),
    st.sampled_from(JSON_TYPES),
    st.sampled_from(OTHER_TYPES),
    st.sampled_from(UNSURE_TYPES),
)


# --- the oracle ------------------------------------------------------------------------------


@dataclass
class Expected:
    """What the contract allows for one request."""

    statuses: set[int]
    # For a 422: at least one of these is named (empty: do not check names).
    named: set[str] = field(default_factory=set)
    # For a success on a body route: the decoded, unambiguous body to check the result against.
    body: dict[str, Any] | None = None
    # Names the client itself sent: a detail may name one of them as it is, dots and all.
    sent: set[str] = field(default_factory=set)


class _Unsure(Exception):
    """The JSON is valid but edgy (duplicate keys, numbers out of range, too deep for us)."""


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [k for k, _ in pairs]
    result = dict(pairs)
    if len(set(names)) != len(names):
        result["\x00duplicates"] = {name for name in names if names.count(name) > 1}
    return result


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value) or (
        value == 0 and any(c in "123456789" for c in text.split("e", maxsplit=1)[0])
    ):
        raise _Unsure
    return value


def _int(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**64:
        raise _Unsure
    return value


def strict_json(body: bytes) -> Any:
    """The body as RFC 8259 JSON; ValueError when it is not, _Unsure when it is edgy."""
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    try:
        return json.loads(
            text,
            object_pairs_hook=_pairs_hook,
            parse_constant=_reject_constant,
            parse_float=_float,
            parse_int=_int,
        )
    except RecursionError:
        raise _Unsure from None


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


# Anywhere in the body, even in a value a duplicate key then replaces.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _stripped(text: str) -> set[str]:
    """The title after trimming: Unicode white space or only ASCII white space."""
    return {text.strip(), text.strip(" \t\n\r\x0b\x0c")}


def _timestamp_verdict(value: Any, *, nullable: bool) -> str:
    if value is None:
        return "ok" if nullable else "bad"
    if not isinstance(value, str):
        return "bad"
    if value in VALID_TIMESTAMPS:
        return "ok"
    if value in INVALID_TIMESTAMPS:
        return "bad"
    if value in EDGE_TIMESTAMPS or _has_surrogate(value):
        return "unsure"
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return "bad"
    return "unsure"


def field_verdict(name: str, value: Any, route: str) -> str:
    """'ok', 'bad' or 'unsure' for one editable field's value on this route."""
    if value is None:
        if name in {"description", "due_at"}:
            return "ok"
        return "bad"
    if name == "completed":
        return "ok" if isinstance(value, bool) else "bad"
    if name == "priority":
        return "ok" if value in PRIORITIES else "bad"
    if name == "due_at":
        return _timestamp_verdict(value, nullable=True)
    if not isinstance(value, str):
        return "bad"
    if "\x00" in value:
        return "bad"
    if name == "title":
        verdicts = {1 <= len(t) <= 500 for t in _stripped(value)}
    else:
        verdicts = {len(value) <= 2000}
    if len(verdicts) > 1:
        return "unsure"
    if _has_surrogate(value):
        return "unsure" if verdicts == {True} else "bad"
    return "ok" if verdicts == {True} else "bad"


def object_verdict(obj: dict[str, Any], route: str) -> Expected:
    success = {201} if route == "POST" else {200}
    duplicates: set[str] = obj.pop("\x00duplicates", set())
    allowed = {"completed"} if route == "COMPLETE" else set(EDITABLE)
    foreign = {name for name in obj if name not in EDITABLE}
    misplaced = {name for name in obj if name in EDITABLE and name not in allowed}
    bad: set[str] = set()
    unsure: set[str] = set()
    for name in set(obj) & allowed:
        verdict = field_verdict(name, obj[name], route)
        if verdict == "bad":
            bad.add(name)
        elif verdict == "unsure":
            unsure.add(name)
    if route in {"POST", "PUT"} and "title" not in obj:
        bad.add("title")
    if foreign:
        # The contract names the unknown field; a bad value next to it may be named instead.
        return Expected({422}, foreign | bad | misplaced | duplicates | unsure)
    if duplicates:
        return Expected({*success, 400, 422})
    if route == "COMPLETE" and "completed" not in obj and not bad:
        # `{}` (or only misplaced fields) on complete: a flip or a refusal, the contract is silent.
        return Expected({*success, 422}, misplaced | unsure)
    if bad:
        return Expected({422}, bad | misplaced | unsure)
    if misplaced:
        return Expected({*success, 422}, misplaced | unsure)
    if unsure:
        return Expected({*success, 422}, unsure)
    return Expected(success, body=obj)


def body_verdict(route: str, body: bytes, content_type: str | None) -> Expected:
    success = {201} if route == "POST" else {200}
    kind = (
        "json"
        if content_type in JSON_TYPES
        else "other"
        if content_type in OTHER_TYPES
        else "unsure"
    )
    media = {415} if kind != "json" else set()
    if len(body) > MAX_BODY:
        return Expected({413} | media)
    if kind == "other" and body:
        return Expected({415})
    if not body.strip(b" \t\r\n"):
        if route == "COMPLETE":
            # No body: a flip. White space only may count as no body or as malformed.
            statuses = {200} if not body else {200, 400}
            return Expected(statuses | media, body={} if kind == "json" and not body else None)
        return Expected({400} | media)
    try:
        value = strict_json(body)
    except _Unsure:
        return Expected({*success, 400, 422} | media)
    except ValueError:
        if body.startswith(b"\xef\xbb\xbf"):  # a BOM: parsers may ignore it
            return Expected({*success, 400, 422} | media)
        return Expected({400} | media)
    # Escaped lone surrogates are JSON by grammar, but RFC 8259 lets a parser refuse them.
    lone = {400} if _ESCAPED_SURROGATE.search(body) else set()
    if not isinstance(value, dict):
        return Expected({422} | media | lone)
    expected = object_verdict(value, route)
    if lone or media:
        return Expected(expected.statuses | lone | media, expected.named)
    return expected


# --- checks ----------------------------------------------------------------------------------


def check_envelope(response: Response, expected: Expected) -> dict[str, Any]:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:2000]}"
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    request_id = response.headers.get("x-request-id")
    assert request_id
    if status in OK:
        assert body["success"] is True, body
        assert "data" in body
        assert "error" not in body
    else:
        assert set(body) == {"success", "error"}, body
        assert body["success"] is False
        error = body["error"]
        assert error["code"] in STATUS_OF, error
        assert STATUS_OF[error["code"]] == status, (status, error)
        assert isinstance(error["message"], str)
        assert error["message"]
        assert error["request_id"] == request_id
        if error["code"] == "VALIDATION_ERROR":
            details = error["details"]
            assert isinstance(details, list)
            assert details
            for detail in details:
                assert set(detail) == {"field", "message"}, detail
                assert isinstance(detail["field"], str)
                if detail["field"] not in expected.sent:
                    assert "." not in detail["field"], detail
                    assert not detail["field"].startswith("$"), detail
                assert detail["message"]
            named = {detail["field"] for detail in details}
            if expected.named:
                assert named & expected.named, (named, expected.named, error)
    assert status in expected.statuses, (
        f"{status} not in {sorted(expected.statuses)}: {response.text[:1000]}"
    )
    return body


def snapshot(client: Client, owner: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/{owner}/tasks", params={"limit": 500})
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()["data"]
    return tasks


def create(client: Client, owner: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"/api/{owner}/tasks", json={"title": "seed", **fields})
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _check_field(name: str, value: Any, task: dict[str, Any]) -> None:
    if name == "title":
        assert task["title"] in _stripped(value), (value, task["title"])
    elif name == "description":
        assert task["description"] == (None if value == "" else value), (value, task)
    elif name == "due_at" and value is not None:
        assert task["due_at"].endswith("Z"), task
        assert _instant(task["due_at"]) == _instant(value), (value, task["due_at"])
    else:
        assert task[name] == value, (name, value, task[name])


def check_written(
    route: str, before: dict[str, Any] | None, body: dict[str, Any], task: dict[str, Any]
) -> None:
    """A successful write did what its unambiguous body asked."""
    assert set(task) >= TASK_FIELDS, task
    if route == "COMPLETE":
        assert before is not None
        wanted = body.get("completed", not before["completed"])
        assert task["completed"] is wanted
        if wanted == before["completed"]:
            assert task["version"] == before["version"]
            assert task["completed_at"] == before["completed_at"]
        return
    defaults = {"description": None, "completed": False, "due_at": None, "priority": "none"}
    base = before if route == "PATCH" and before is not None else defaults
    for name in EDITABLE:
        _check_field(name, body.get(name, base.get(name)), task)
    if route == "POST":
        assert task["version"] == 1
    elif before is not None:
        if route == "PATCH" and not body:
            assert task["version"] == before["version"]
        else:
            assert task["version"] in {before["version"], before["version"] + 1}


# --- body decoding ---------------------------------------------------------------------------


@st.composite
def body_requests(draw: st.DrawFn) -> tuple[str, bool, bytes, str | None]:
    route = draw(st.sampled_from(["POST", "PUT", "PATCH", "COMPLETE"]))
    missing = route != "POST" and draw(st.integers(0, 9)) == 0
    shape = draw(
        st.sampled_from(["clean", "flawed", "flawed", "flawed", "chaos", "value", "raw", "binary"])
    )
    content_type = draw(st.sampled_from(JSON_TYPES))
    if shape == "clean":
        body = encode_object(draw(clean_objects(route)), draw(st.booleans()), draw(st.booleans()))
    elif shape == "flawed":
        body = encode_object(draw(flawed_objects(route)), draw(st.booleans()), draw(st.booleans()))
        if draw(st.integers(0, 4)) == 0:
            content_type = draw(st.sampled_from([*OTHER_TYPES, *UNSURE_TYPES]))
    elif shape == "chaos":
        body = encode_object(draw(chaotic_objects(route)), draw(st.booleans()), draw(st.booleans()))
        content_type = draw(content_types)
    elif shape == "value":
        body = _dump(draw(json_values), draw(st.booleans())).encode("utf-8", "surrogatepass")
    elif shape == "raw":
        body = draw(st.sampled_from(RAW_BODIES))
        content_type = draw(content_types)
    else:
        body = draw(st.binary(max_size=200))
    return route, missing, body, content_type


def _top_level_names(body: bytes) -> set[str]:
    try:
        value = json.loads(body.decode("utf-8", "surrogatepass"), object_pairs_hook=list)
    except (ValueError, RecursionError):
        return set()
    return (
        {name for name, _ in value}
        if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value)
        else set()
    )


def run_body_example(client: Client, request: tuple[str, bool, bytes, str | None]) -> None:
    route, missing, body, content_type = request
    owner = f"fz-{uuid.uuid4().hex[:12]}"
    seeded = create(client, owner, description="keep", priority="low", due_at=FAR_FUTURE)
    task_id = MISSING_TASK_ID if missing else seeded["id"]
    method, url = {
        "POST": ("POST", f"/api/{owner}/tasks"),
        "PUT": ("PUT", f"/api/{owner}/tasks/{task_id}"),
        "PATCH": ("PATCH", f"/api/{owner}/tasks/{task_id}"),
        "COMPLETE": ("PATCH", f"/api/{owner}/tasks/{task_id}/complete"),
    }[route]
    expected = body_verdict(route, body, content_type)
    if missing:
        expected = Expected((expected.statuses - OK) | {404}, expected.named)
    expected.sent = _top_level_names(body)
    headers = {"content-type": content_type} if content_type is not None else {}
    before = snapshot(client, owner)

    note(f"{method} {url} content-type={content_type!r} body={body[:400]!r} ({len(body)} bytes)")
    note(f"expected {expected}")
    response = client.request(method, url, content=body, headers=headers)

    envelope = check_envelope(response, expected)
    after = snapshot(client, owner)
    if response.status_code not in OK:
        assert after == before, (response.status_code, response.text[:500])
        return
    task = envelope["data"]
    assert task in after, (task, after)
    if route == "POST":
        assert len(after) == 2
        assert response.headers["location"] == f"/api/{owner}/tasks/{task['id']}"
    else:
        assert task["id"] == seeded["id"]
        assert [t for t in after if t["id"] != task["id"]] == []
    if expected.body is not None:
        check_written(route, None if route == "POST" else seeded, expected.body, task)


@given(request=body_requests())
# A foreign key with a backtick: the 422 must name it, not a prefix of it ("title", or "").
@example(request=("POST", False, b'{"title": "t", "title`x": 1}', "application/json"))
@example(request=("PATCH", False, b'{"`": null}', "application/json"))
@example(request=("PUT", False, b'{"title": "t", "due_at": "0001-01-01T00:00:00+01:00"}', None))
@example(request=("COMPLETE", False, b"[" * 5000 + b"]" * 5000, "application/json"))
@MEMORY
def test_body_decoding_memory(
    memory_client: Client, request: tuple[str, bool, bytes, str | None]
) -> None:
    run_body_example(memory_client, request)


@pytest.mark.postgres
@given(request=body_requests())
@POSTGRES
def test_body_decoding_postgres(
    postgres_client: Client, request: tuple[str, bool, bytes, str | None]
) -> None:
    run_body_example(postgres_client, request)


# --- query decoding --------------------------------------------------------------------------

LIST_NAMES = (
    *("completed", "priority", "q", "due_before", "due_after"),
    *("tags", "sort", "limit", "cursor"),
)
QUERY_VALID: dict[str, st.SearchStrategy[str]] = {
    "completed": st.sampled_from(["true", "false"]),
    "priority": st.sampled_from(PRIORITIES),
    "q": st.sampled_from(["a", "seed", "SEED", "%", "_", "\\", "'", "null", "é", "🥛", "q" * 200]),
    "due_before": st.sampled_from(VALID_TIMESTAMPS),
    "due_after": st.sampled_from(VALID_TIMESTAMPS),
    "tags": st.sampled_from(["work", "Work, home", "a,b,c,d,e", "🥛", "x" * 50, "work,work"]),
    "sort": st.sampled_from(SORTS),
    "limit": st.one_of(st.sampled_from(["1", "2", "100", "500"]), st.integers(1, 500).map(str)),
    "cursor": st.just("REAL"),
}
QUERY_FUZZ: dict[str, st.SearchStrategy[str]] = {
    "completed": st.sampled_from(["True", "TRUE", "1", "0", "yes", "", "null", "on", "true "]),
    "priority": st.sampled_from(["HIGH", "urgent", "", "null", "high,low", " low"]),
    "q": st.one_of(
        st.sampled_from(["", " ", "🥛" * 200, "🥛" * 201, "q" * 201, "a\x00b"]),
        st.text(max_size=20),
    ),
    "due_before": timestamps,
    "due_after": timestamps,
    "tags": st.one_of(
        st.sampled_from(["", ",", "a,,b", " ", "x" * 51, "a,b,c,d,e,f", "a\x01b", "null"]),
        st.text(max_size=20),
    ),
    "sort": st.sampled_from(
        ["", "id", "TITLE", "--title", "+title", "title,-id", "null", "title "]
    ),
    "limit": st.one_of(
        st.sampled_from(
            ["0", "501", "-1", "1.5", "", "null", "abc", "1e2", "99999999999999999999"]
        ),
        st.sampled_from(["01", "+5", " 5", "\uff15", "0x10", "1_0"]),
        st.integers(-(10**6), 10**6).map(str),
    ),
    "cursor": st.one_of(
        st.sampled_from(["REAL-cut", "REAL-flip", "REAL-extra", "REAL+pad", "REAL-other-sort"]),
        st.sampled_from(["", "null", "0", "abc", "eyJ9", "eyJzb3J0IjoidGl0bGUifQ", "=" * 8]),
        st.text(max_size=40),
    ),
}
QUERY_VALUES = {name: st.one_of(QUERY_VALID[name], QUERY_FUZZ[name]) for name in LIST_NAMES}
UNKNOWN_NAMES = st.one_of(
    st.sampled_from(["Limit", "limit ", "limit[]", "page", "offset", "user_id", "", "tag"]),
    st.text(min_size=1, max_size=12),
)
BROKEN = ["%", "%zz", "%ff", "%c3", "%00", "&", "&&", "=", "==x", "limit=1=2", ";", "q=%ED%A0%80"]
ENCODINGS = ("plain", "all", "plus")


def _encode(text: str, how: str) -> str:
    """Percent-encoded, except `/`: Litestar's TestClient hands the ASGI app a `raw_path` with
    the query string in it (uvicorn does not), and the app reads `%2F` in `raw_path` as an
    encoded slash in the path, a 404 that a real server never gives."""
    raw = text.encode("utf-8", "surrogatepass")
    if how == "all":
        return "".join("/" if b == 0x2F else f"%{b:02X}" for b in raw)
    encoded = quote(raw, safe="/-._~")
    return encoded.replace("%20", "+") if how == "plus" else encoded


@dataclass
class Query:
    route: str  # "list", "bulk" or "stats"
    pairs: list[tuple[str, str]]
    encodings: list[str]
    broken: list[str]


@st.composite
def queries(draw: st.DrawFn) -> Query:
    """A clean query (distinct known names, valid values) with, mostly, one flaw added; or
    anything at all."""
    route = draw(st.sampled_from(["list", "list", "list", "bulk", "stats"]))
    known = {"list": LIST_NAMES, "bulk": ("completed",), "stats": ()}[route]
    if route == "bulk":
        pairs = [("completed", "true")]
    elif route == "stats":
        pairs = []
    else:
        names = draw(st.lists(st.sampled_from(LIST_NAMES), unique=True, max_size=4))
        pairs = [(name, draw(QUERY_VALID[name])) for name in names]
    flaw = draw(st.sampled_from(["none", "value", "value", "unknown", "repeat", "broken", "chaos"]))
    if flaw == "value" and known:
        name = draw(st.sampled_from(known))
        pairs = [(n, v) for n, v in pairs if n != name]
        pairs.append((name, draw(QUERY_FUZZ.get(name, st.sampled_from(["false", "", "TRUE"])))))
    elif flaw == "unknown":
        pairs.append((draw(UNKNOWN_NAMES), draw(st.text(max_size=10))))
    elif flaw == "repeat" and pairs:
        name, _ = draw(st.sampled_from(pairs))
        pairs.append((name, draw(QUERY_VALUES.get(name, st.just("true")))))
    elif flaw == "chaos":
        for _ in range(draw(st.integers(1, 4))):
            name = draw(st.one_of(st.sampled_from(LIST_NAMES), UNKNOWN_NAMES))
            pairs.append((name, draw(QUERY_VALUES.get(name, st.text(max_size=10)))))
    pairs = draw(st.permutations(pairs))
    encodings = [draw(st.sampled_from(ENCODINGS)) for _ in pairs]
    broken = (
        draw(st.lists(st.sampled_from(BROKEN), min_size=1, max_size=2)) if flaw == "broken" else []
    )
    return Query(route, pairs, encodings, broken)


def _tags_verdict(value: str) -> str:
    tags = [tag.strip().lower() for tag in value.split(",")]
    if not 1 <= len(tags) <= 5 or not all(1 <= len(t) <= 50 for t in tags):
        return "bad"
    if any(unicodedata.category(c) == "Cc" for c in value):
        return "bad"
    # Lower-casing may lengthen a tag (İ), and Python's strip() trims more than spaces.
    return "ok" if value.isascii() else "unsure"


def _value_verdict(name: str, value: str) -> str:
    if name == "completed":
        if value in {"true", "false"}:
            return "ok"
        return "unsure" if value.lower() in {"true", "false"} else "bad"
    if name == "priority":
        if value in PRIORITIES:
            return "ok"
        return "unsure" if value.lower() in PRIORITIES else "bad"
    if name == "q":
        if not value or len(value) > 200:
            return "bad"
        return "unsure" if "\x00" in value or not value.strip() else "ok"
    if name in {"due_before", "due_after"}:
        return _timestamp_verdict(value, nullable=False)
    if name == "tags":
        return _tags_verdict(value)
    if name == "sort":
        return "ok" if value in SORTS else "bad"
    if name == "limit":
        if re.fullmatch(r"[1-9][0-9]{0,2}", value) and int(value) <= 500:
            return "ok"
        # Float spellings of an integer ("1e2", "1.0") are let through: lax, but harmless.
        if re.fullmatch(r"-?[0-9]+|[a-z.]*|1\.5", value):
            return "bad"
        return "unsure"
    return "unsure"


def query_verdict(query: Query, real_cursor: str | None) -> Expected:
    if query.broken or any(map(_has_surrogate, itertools.chain(*query.pairs))):
        return Expected(OK | {400, 422})
    names = [name for name, _ in query.pairs]
    known = {"list": set(LIST_NAMES), "bulk": {"completed"}, "stats": set()}[query.route]
    unknown = {name for name in names if name not in known}
    if "" in unknown:
        return Expected(OK | {400, 422})
    if unknown:
        return Expected({422}, unknown)
    values = dict(query.pairs)
    repeated = {name for name in names if names.count(name) > 1}
    if query.route == "bulk":
        if repeated:
            return Expected({200, 422})
        return Expected({200} if values.get("completed") == "true" else {422}, set())
    bad: set[str] = set()
    unsure = set(repeated)
    for name, value in query.pairs:
        if name == "cursor":
            # A cursor is valid with the sort and filters it was made with (any limit).
            if value != real_cursor:
                bad.add(name)
            continue
        verdict = _value_verdict(name, value)
        if verdict == "bad":
            bad.add(name)
        elif verdict == "unsure":
            unsure.add(name)
    if bad:
        return Expected({422}, bad | unsure)
    if unsure:
        return Expected({200, 422}, unsure)
    return Expected({200})


def _tampered(cursor: str, how: str) -> str:
    if how == "REAL-cut":
        return cursor[: len(cursor) // 2]
    if how == "REAL-flip":
        middle = len(cursor) // 2
        return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    if how == "REAL-extra":
        return cursor + "AAAA"
    if how == "REAL+pad":
        return cursor + "=="
    return cursor


def _mint_cursor(
    client: Client, owner: str, pairs: list[tuple[str, str]], *, other_sort: bool
) -> str | None:
    """A real next_cursor for the query's own sort and filters (or another sort), if any."""
    params = [(n, v) for n, v in pairs if n not in {"cursor", "limit"}]
    if other_sort:
        sort = dict(params).get("sort", "-created_at")
        params = [(n, v) for n, v in params if n != "sort"]
        params.append(("sort", "title" if sort != "title" else "-title"))
    response = client.get(f"/api/{owner}/tasks", params=[*params, ("limit", "1")])
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        return None
    cursor: str | None = response.json()["meta"]["next_cursor"]
    return cursor


def _cursor_for(
    client: Client, owner: str, pairs: list[tuple[str, str]], how: str, real: str | None
) -> str:
    if how == "REAL-other-sort":
        return _mint_cursor(client, owner, pairs, other_sort=True) or ""
    return _tampered(real, how) if real else ""


def run_query_example(client: Client, query: Query) -> None:
    owner = f"fz-{uuid.uuid4().hex[:12]}"
    create(client, owner, priority="high", due_at=FAR_FUTURE)
    create(client, owner, completed=True, description="done")
    create(client, owner, title="🥛 third")
    real_cursor: str | None = None
    if any(name == "cursor" and value.startswith("REAL") for name, value in query.pairs):
        real_cursor = _mint_cursor(client, owner, query.pairs, other_sort=False)
        query.pairs = [
            (name, _cursor_for(client, owner, query.pairs, value, real_cursor))
            if name == "cursor" and value.startswith("REAL")
            else (name, value)
            for name, value in query.pairs
        ]
    expected = query_verdict(query, real_cursor)
    expected.sent = {name for name, _ in query.pairs}
    parts = [
        f"{_encode(name, how)}={_encode(value, how)}"
        for (name, value), how in zip(query.pairs, query.encodings, strict=True)
    ]
    parts += query.broken
    url = {
        "list": ("GET", f"/api/{owner}/tasks"),
        "bulk": ("DELETE", f"/api/{owner}/tasks"),
        "stats": ("GET", f"/api/{owner}/tasks/stats"),
    }[query.route]
    method, path = url
    if parts:
        path += "?" + "&".join(parts)
    before = snapshot(client, owner)

    note(f"{method} {path[:600]}")
    note(f"expected {expected}")
    response = client.request(method, path)

    envelope = check_envelope(response, expected)
    after = snapshot(client, owner)
    if query.route != "bulk" or response.status_code not in OK:
        assert after == before, (response.status_code, response.text[:500])
    if response.status_code not in OK:
        return
    data = envelope["data"]
    if query.route == "bulk":
        assert data == {"deleted": 1}, data
        assert after == [t for t in before if not t["completed"]]
    elif query.route == "stats":
        assert data == {"total": 3, "completed": 1, "pending": 2, "overdue": 0}, data
    elif expected.statuses == {200}:
        values = dict(query.pairs)
        limit = int(values.get("limit", "100"))
        assert envelope["meta"]["limit"] == limit
        assert envelope["meta"]["count"] == len(data) <= limit
        assert all(t in before for t in data)
        if "completed" in values:
            assert all(t["completed"] is (values["completed"] == "true") for t in data)
        if "priority" in values:
            assert all(t["priority"] == values["priority"] for t in data)


@given(query=queries())
@MEMORY
def test_query_decoding_memory(memory_client: Client, query: Query) -> None:
    run_query_example(memory_client, query)


@pytest.mark.postgres
@given(query=queries())
@POSTGRES
def test_query_decoding_postgres(postgres_client: Client, query: Query) -> None:
    run_query_example(postgres_client, query)
