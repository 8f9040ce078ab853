"""Requests in, strictly: the one place that keeps the contract's rules for bodies, query
strings and path parameters, for every route.

Handlers declare what they take (`data: TaskWrite`, `task_id: UUID`, `completed: bool | None`)
and Litestar builds the OpenAPI document from that. Litestar's own conversion is lenient
(`"true"` or `1` for a JSON boolean, `null` for an absent parameter, epoch numbers for a
timestamp, the last of repeated parameters), so before it runs:

- bodies are decoded by `StrictJson`, a DTO that decodes with msgspec in strict mode;
- `check_request`, every task route's `before_request`, refuses unknown and repeated query
  parameters, checks each value against its declared type the strict way, checks the path
  parameters, and the content type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final, Literal, TypeVar, get_args, get_origin
from uuid import UUID

import msgspec
from litestar import Request
from litestar.dto import AbstractDTO
from litestar.openapi.spec import Reference
from litestar.params import QueryParameter
from litestar.typing import FieldDefinition

from domain.errors import ValidationFailed
from domain.ids import UUID_RULE, is_task_id
from domain.task import OWNER_RULE, SHOWN_FIELDS, check_owner
from entrypoints.timestamps import read_timestamp

T = TypeVar("T")

_TOO_DEEP: Final = "the request body is not valid JSON, or is nested too deeply"
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class RequestInvalid(Exception):
    """The request breaks a rule of the HTTP edge (types, unknown fields, parameters)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def of(cls, field: str, message: str) -> RequestInvalid:
        return cls([FieldError(field, message)])


class MalformedRequest(Exception):
    """The body is not JSON at all, or is missing where one is required."""


class UnsupportedMediaType(Exception):
    """The body is not `application/json`."""


# --- msgspec's messages -------------------------------------------------------------------

# msgspec's errors carry only English text ("Expected `str`, got `int` - at `$.title`"); this
# is the one function that reads it. tests/unit/test_http_parsing.py runs it over every kind
# of message the locked msgspec gives for our shapes, so an upgrade that rewords one fails
# there, not in production.
_TYPE_NAMES: Final = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "null",
    "object": "an object",
    "array": "an array",
    "datetime": "an RFC 3339 timestamp with an offset",
    "uuid": "a UUID",
}
_ALLOWED_VALUES: Final = {"priority": "none, low, medium, high", "completed": "true, false"}
_READ_ONLY_FIELDS: Final = frozenset(f.name for f in SHOWN_FIELDS if not f.editable)
_MESSAGE: Final = re.compile(
    r"Object contains unknown field `(?P<unknown>[^`]*)`"
    r"|Object missing required field `(?P<missing>[^`]*)`"
    r"|(?P<enum>Invalid enum value)"
    r"|(?P<timestamp>Expected `datetime` with a timezone component|Invalid RFC3339)"
    r"|Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`"
    r"|Expected `str` of length <= (?P<longest>\d+)"
    r"|Expected `(?P<bounded>[^`]+)` (?P<op>[<>]=?) (?P<bound>-?\d+)"
)


def _type_name(spelling: str) -> str:
    return " or ".join(_TYPE_NAMES.get(part.strip(), part.strip()) for part in spelling.split("|"))


def describe_decode_error(text: str) -> FieldError:
    """A msgspec validation message as a bare field name and a rule a client author reads."""
    message, _, path = text.partition(" - at `$")
    field = path.rstrip("`").lstrip(".").split(".")[0].split("[")[0] or "body"
    match = _MESSAGE.search(message)
    if match is None:
        return FieldError(field, message[:1].lower() + message[1:])
    if (name := match["unknown"]) is not None:  # "" names a field too
        return FieldError(
            name, "is read-only" if name in _READ_ONLY_FIELDS else "is not a known field"
        )
    if (name := match["missing"]) is not None:
        return FieldError(name, "is required")
    if match["enum"]:
        return FieldError(
            field, f"must be one of {_ALLOWED_VALUES.get(field, 'its allowed values')}"
        )
    if match["timestamp"]:
        return FieldError(field, "must be an RFC 3339 timestamp with an offset")
    if match["want"] is not None:
        if field == "body" and match["want"] == "object":
            return FieldError("body", "must be a JSON object")
        return FieldError(
            field, f"must be {_type_name(match['want'])}, not {_type_name(match['got'])}"
        )
    if match["longest"] is not None:
        return FieldError(field, f"must be at most {match['longest']} characters")
    return FieldError(
        field, f"must be {_type_name(match['bounded'])} {match['op']} {match['bound']}"
    )


# --- bodies -----------------------------------------------------------------------------------

_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}


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
            raw = msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError):
            raise MalformedRequest("the request body is not valid JSON") from None
        except RecursionError:
            raise MalformedRequest(_TOO_DEEP) from None
        if unknown := _unknown_fields(raw, shape):
            raise RequestInvalid(unknown) from None
        raise RequestInvalid([describe_decode_error(str(error))]) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise MalformedRequest("the request body is not valid JSON") from None
    except RecursionError:  # no body of ours nests; msgspec gives up near 1,000 levels
        raise MalformedRequest(_TOO_DEEP) from None
    return result


def _unknown_fields(raw: Any, shape: type[Any]) -> list[FieldError]:
    """Fields the shape does not have, named from the body itself: msgspec's message quotes
    a name in backticks, which a name can contain."""
    known = getattr(shape, "__struct_fields__", None)
    if not isinstance(raw, dict) or known is None:
        return []
    return [
        FieldError(name, "is read-only" if name in _READ_ONLY_FIELDS else "is not a known field")
        for name in raw
        if name not in known
    ]


def decode_optional_body(body: bytes, shape: type[T]) -> T | None:
    return None if not body.strip() else decode_body(body, shape)


class StrictJson(AbstractDTO[T]):
    """The request body, decoded strictly into the handler's `data` type: `data: TaskWrite`
    with `dto=StrictJson[TaskWrite]`. A handler whose `data` may be None takes an empty body
    as None. It only decodes; answers are encoded as usual (`return_dto=None`)."""

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[Any, None, None]:
        yield from ()  # no transfer model: msgspec decodes into the type itself

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        pass  # nothing to build: decode_bytes decodes into the model type

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Any:
        """The body's schema as Litestar makes it for the type, saying what this DTO holds
        to as well: no field beyond the type's own (Litestar does not write that down)."""
        schema = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(cls.model_type)
        )
        if getattr(cls.model_type, "__struct_config__", None) is not None:
            target = schema
            if isinstance(schema, Reference):
                target = schema_creator.schema_registry.from_reference(schema).schema
            target.additional_properties = (
                not cls.model_type.__struct_config__.forbid_unknown_fields
            )
        return schema

    def decode_bytes(self, value: bytes) -> Any:
        if _rules_of(self.asgi_connection.route_handler).optional_body:
            return decode_optional_body(value, self.model_type)
        return decode_body(value, self.model_type)


# --- query strings and path parameters ------------------------------------------------------

Parse = Callable[[str, str], Any]  # (name, text) -> value, or RequestInvalid


def _choices(allowed: Mapping[str, Any]) -> Parse:
    listed = ", ".join(allowed)

    def parse(name: str, text: str) -> Any:
        if text not in allowed:
            raise RequestInvalid.of(name, f"must be one of {listed}")
        return allowed[text]

    return parse


_INTEGER: Final = re.compile(r"-?(0|[1-9][0-9]{0,17})")


def _integer(ge: int | None, le: int | None) -> Parse:
    def parse(name: str, text: str) -> int:
        if not _INTEGER.fullmatch(text):
            raise RequestInvalid.of(name, "must be an integer, not a string")
        value = int(text)
        if ge is not None and value < ge:
            raise RequestInvalid.of(name, f"must be an integer >= {ge}")
        if le is not None and value > le:
            raise RequestInvalid.of(name, f"must be an integer <= {le}")
        return value

    return parse


def _text(min_length: int | None, max_length: int | None) -> Parse:
    def parse(name: str, text: str) -> str:
        if min_length is not None and len(text) < min_length:
            raise RequestInvalid.of(name, f"must be at least {min_length} characters")
        if max_length is not None and len(text) > max_length:
            raise RequestInvalid.of(name, f"must be at most {max_length} characters")
        return text

    return parse


def _timestamp(name: str, text: str) -> datetime:
    """RFC 3339 with an offset only (Litestar would also take Unix epoch numbers)."""
    value = read_timestamp(text)
    if isinstance(value, str) or value.tzinfo is None:
        raise RequestInvalid.of(name, "must be an RFC 3339 timestamp with an offset")
    return value


def parser_for(field: FieldDefinition) -> Parse:
    """How a query parameter declared as `field` is read from its text, strictly."""
    annotation = field.annotation
    if field.is_optional:
        annotation = next(arg for arg in field.args if arg is not type(None))
    kwargs = field.kwarg_definition
    if annotation is bool:
        return _choices({"true": True, "false": False})
    if annotation is int:
        return _integer(getattr(kwargs, "ge", None), getattr(kwargs, "le", None))
    if annotation is str:
        return _text(getattr(kwargs, "min_length", None), getattr(kwargs, "max_length", None))
    if annotation is datetime:
        return _timestamp
    if get_origin(annotation) is Literal:
        return _choices({value: value for value in get_args(annotation)})
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choices({member.value: member for member in annotation})
    raise TypeError(f"no query parser for {annotation!r}")  # a handler declared a new type


@dataclass(frozen=True, slots=True)
class _RouteRules:
    query: Mapping[str, Parse]
    required: tuple[str, ...]  # query parameters without a default
    checks_uuid: tuple[str, ...]  # path parameters that must be UUIDs
    optional_body: bool  # `data` may be None: an empty body is no body


_RULES: Final = "taskapi.rules"


def _rules_of(handler: Any) -> _RouteRules:
    """A route's rules, read from its signature once and kept in its `opt` (Litestar's
    `handler_id`, a string built on every access, measured 5 us a request as a key)."""
    rules: _RouteRules | None = handler.opt.get(_RULES)
    if rules is None:
        query: dict[str, Parse] = {}
        required: list[str] = []
        uuids: list[str] = []
        for name, field in handler.parsed_fn_signature.parameters.items():
            kwargs = field.kwarg_definition
            if isinstance(kwargs, QueryParameter):  # every query parameter is declared so
                query[name] = parser_for(field)
                if not field.has_default:
                    required.append(name)
            elif field.annotation is UUID:
                uuids.append(name)
        data = handler.parsed_fn_signature.parameters.get("data")
        optional_body = data is not None and data.is_optional
        rules = handler.opt[_RULES] = _RouteRules(
            query, tuple(required), tuple(uuids), optional_body
        )
    return rules


def _check_query(request: Request[Any, Any, Any], allowed: Mapping[str, Parse]) -> None:
    query = request.query_params
    unknown = [name for name in query if name not in allowed]
    if unknown:
        raise RequestInvalid(
            [FieldError(name, "is not a known query parameter") for name in unknown]
        )
    repeated = [name for name in query if len(query.getall(name)) > 1]
    if repeated:
        raise RequestInvalid([FieldError(name, "must be given at most once") for name in repeated])
    for name, text in query.items():
        allowed[name](name, text)


def _has_body(request: Request[Any, Any, Any]) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def owner_from_path(user_id: str) -> str:
    try:
        return check_owner(user_id)
    except ValidationFailed:
        raise RequestInvalid.of("user_id", OWNER_RULE) from None


def task_id_from_path(task_id: str) -> UUID:
    if not is_task_id(task_id):
        raise RequestInvalid.of("task_id", UUID_RULE)
    return UUID(task_id)


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Every task route's `before_request`: path parameters, the query string, and that a
    body, when there is one, is JSON (a missing Content-Type is read as JSON)."""
    rules = _rules_of(request.route_handler)
    path = request.path_params
    owner_from_path(path["user_id"])
    for name in rules.checks_uuid:
        task_id_from_path(path[name])
    if request.scope.get("query_string"):  # most requests have none: skip parsing it
        _check_query(request, rules.query)
    if rules.required:
        missing = [name for name in rules.required if name not in request.query_params]
        if missing:
            raise RequestInvalid([FieldError(name, "is required") for name in missing])
    if request.method in _BODY_METHODS and _has_body(request):
        content_type = request.headers.get("content-type")
        if content_type is not None and not _is_json(content_type):
            raise UnsupportedMediaType("the request body must be application/json")
