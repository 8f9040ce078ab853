"""The OpenAPI document is Litestar's, built from the handlers: one document, stating the real
rules, usable by type generators; the interactive docs need no internet."""

from __future__ import annotations

import json
import re
from typing import Any

from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from application.import_export import ImportExceedsLimit
from domain.errors import TaskLimitReached
from entrypoints.cli.main import cli
from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.errors import status_of
from tests.e2e.helpers import Client

CONTRACT_CODES = {
    "MALFORMED_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "TASK_NOT_FOUND",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "TASK_LIMIT_REACHED",
    "IDEMPOTENCY_KEY_REUSED",
    "IDEMPOTENCY_KEY_IN_USE",
    "PRECONDITION_FAILED",
    "SYNC_TOKEN_EXPIRED",  # contract 1.1
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_ERROR",
    "RATE_LIMITED",
    "INTERNAL_ERROR",
    "SERVICE_UNAVAILABLE",
}


async def _document(client: Client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for operation in item.values()
    ]


async def test_there_is_one_document(client: Client) -> None:
    document = await _document(client)

    assert (await client.get("/_openapi")).status_code == 404
    assert (await client.get("/_openapi/openapi.json")).status_code == 404
    assert (await client.get("/docs/openapi.json")).json() == document


async def test_error_codes_are_the_contracts_enum(client: Client) -> None:
    schemas = (await _document(client))["components"]["schemas"]

    code = schemas["ErrorBody"]["properties"]["code"]
    assert set(code["enum"]) == CONTRACT_CODES


async def test_request_bodies_carry_no_defaults_and_state_their_rules(client: Client) -> None:
    """openapi-typescript (default settings) types a property with a `default` as always
    present, which would make every optional POST field required in a client."""
    schemas = (await _document(client))["components"]["schemas"]

    for name in ("TaskWrite", "TaskPatch", "CompletionWrite"):
        assert '"default"' not in json.dumps(schemas[name]), name
    write = schemas["TaskWrite"]
    assert write["required"] == ["title"]
    title = re.compile(write["properties"]["title"]["pattern"])
    assert title.search("  Buy milk ")
    assert not title.search("   ")
    assert not title.search("a\x00b")
    assert not title.search("x" * 501)
    assert write["properties"]["description"]["maxLength"] == 2000
    for name in ("TaskWrite", "TaskPatch", "CompletionWrite"):
        assert schemas[name]["additionalProperties"] is False, name  # unknown fields: 422


async def test_only_the_completion_body_is_optional(client: Client) -> None:
    paths = (await _document(client))["paths"]

    assert (
        paths["/api/{user_id}/tasks/{task_id}/complete"]["patch"]["requestBody"]["required"]
        is False
    )
    assert paths["/api/{user_id}/tasks"]["post"]["requestBody"]["required"] is True
    assert paths["/api/{user_id}/tasks/{task_id}"]["put"]["requestBody"]["required"] is True
    assert paths["/api/{user_id}/tasks/{task_id}"]["patch"]["requestBody"]["required"] is True


async def test_every_task_route_declares_its_errors_in_the_envelope(client: Client) -> None:
    document = await _document(client)

    for operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
                assert "X-Request-ID" in response["headers"]
        assert "security" not in operation  # AUTH_MODE=none: nothing to send


async def test_jwt_mode_declares_bearer_auth() -> None:
    settings = Settings(task_store="memory", auth_mode="jwt", jwt_secret="s" * 32)
    async with AsyncTestClient(app=create_app(Container(settings=settings))) as client:
        document = await _document(client)

    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for operation in _operations(document):
        assert operation["security"] == [{"bearerAuth": []}]


async def test_the_docs_page_needs_nothing_from_elsewhere(client: Client) -> None:
    page = await client.get("/docs")

    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    for source in sources:
        assert source.startswith("/docs/assets/"), source
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100
    assert "<script>" not in page.text  # no inline script: works under script-src 'self'
    assert (await client.get("/docs/assets/swagger-editor.js")).status_code == 404


def test_the_command_writes_the_served_document(monkeypatch: Any) -> None:
    monkeypatch.setenv("AUTH_MODE", "none")
    monkeypatch.setenv("TASK_STORE", "memory")

    result = CliRunner().invoke(cli, ["openapi"])

    assert result.exit_code == 0, result.output
    app = create_app(Container(settings=Settings(task_store="memory")))
    from entrypoints.http.openapi import openapi_document  # noqa: PLC0415

    assert json.loads(result.output) == openapi_document(app)


def test_a_subclass_of_a_mapped_domain_error_answers_as_its_parent() -> None:
    assert issubclass(ImportExceedsLimit, TaskLimitReached)
    assert status_of(ImportExceedsLimit(3, 2, 2)) == status_of(TaskLimitReached(3)) == 409
