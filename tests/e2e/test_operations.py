"""Operations routes: health, readiness, the OpenAPI document and the docs page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from entrypoints.config import Settings
from tests.e2e.helpers import Client, assert_error, running_client, tasks_url

TASK_OPERATIONS = {
    "/api/{user_id}/tasks": {"get", "post", "delete"},
    "/api/{user_id}/tasks/stats": {"get"},
    "/api/{user_id}/tasks/{task_id}": {"get", "put", "patch", "delete"},
    "/api/{user_id}/tasks/{task_id}/complete": {"patch"},
}
BODY_OPERATIONS = [
    ("/api/{user_id}/tasks", "post"),
    ("/api/{user_id}/tasks/{task_id}", "put"),
    ("/api/{user_id}/tasks/{task_id}", "patch"),
    ("/api/{user_id}/tasks/{task_id}/complete", "patch"),
]
UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/unreachable"


async def test_health_answers_ok(client: Client) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"status": "ok"}}


async def test_ready_when_the_storage_answers_and_its_schema_is_current(client: Client) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json()["success"] is True


async def test_docs_is_an_html_page(client: Client) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    assert "/openapi.json" in response.text


async def _openapi(client: Client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow local $refs (and a lone anyOf/allOf wrapper) to the schema they name."""
    while True:
        if "$ref" in schema:
            node: Any = document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        elif len(schema.get("allOf", [])) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


async def test_openapi_is_version_3_1_with_every_route(client: Client) -> None:
    document = await _openapi(client)

    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path, methods in TASK_OPERATIONS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    assert "get" in paths["/health"]
    assert "get" in paths["/ready"]


async def test_openapi_describes_request_bodies(client: Client) -> None:
    document = await _openapi(client)

    for path, method in BODY_OPERATIONS:
        body = document["paths"][path][method]["requestBody"]
        schema = _resolve(document, body["content"]["application/json"]["schema"])
        assert schema["type"] == "object", (path, method)
        assert set(schema["properties"]) <= {
            "title",
            "description",
            "completed",
            "due_at",
            "priority",
            "tags",
            "recurrence",
            "time_zone",
            "remind_at",
        }
        expected_required = {"title"} if method in {"post", "put"} else set()
        assert set(schema.get("required", [])) == expected_required, (path, method)


async def test_openapi_describes_the_error_envelope(client: Client) -> None:
    document = await _openapi(client)

    for path, methods in TASK_OPERATIONS.items():
        for method in methods:
            responses = document["paths"][path][method]["responses"]
            assert "422" in responses, (path, method)
            schema = _resolve(document, responses["422"]["content"]["application/json"]["schema"])
            assert {"success", "error"} <= set(schema["properties"])
            error = _resolve(document, schema["properties"]["error"])
            assert {"code", "message", "details", "request_id"} <= set(error["properties"])
    task = document["paths"]["/api/{user_id}/tasks/{task_id}"]
    assert {"404", "412"} <= set(task["put"]["responses"])
    assert {"400", "413", "415"} <= set(
        document["paths"]["/api/{user_id}/tasks"]["post"]["responses"]
    )
    assert "409" in document["paths"]["/api/{user_id}/tasks"]["post"]["responses"]
    assert "304" in task["get"]["responses"]


async def test_openapi_describes_the_path_parameters(client: Client) -> None:
    document = await _openapi(client)

    parameters = {
        parameter["name"]: parameter
        for parameter in document["paths"]["/api/{user_id}/tasks/{task_id}"]["get"]["parameters"]
    }

    assert parameters["user_id"]["in"] == "path"
    assert parameters["user_id"]["schema"]["maxLength"] == 128
    assert parameters["task_id"]["schema"]["format"] == "uuid"


async def test_openapi_document_is_stable_between_requests(client: Client) -> None:
    assert await _openapi(client) == await _openapi(client)


async def test_unreachable_database_is_service_unavailable(
    storage_settings: Settings, adapter: str, owner: str
) -> None:
    if adapter != "postgres":
        pytest.skip("the in-memory store cannot become unreachable")
    settings = replace(storage_settings, database_url=UNREACHABLE_DATABASE, migrate_on_start=False)

    async with running_client(settings) as client:
        ready = await client.get("/ready")
        listing = await client.get(tasks_url(owner))
        creating = await client.post(tasks_url(owner), json={"title": "x"})

    for response in (ready, listing, creating):
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert int(response.headers["retry-after"]) > 0


async def test_openapi_documents_auth_and_rate_limit_answers_on_task_routes(
    client: Client,
) -> None:
    document = await _openapi(client)

    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429", "503"} <= codes, (method, path)
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
            assert "Retry-After" in operation["responses"]["429"]["headers"]
