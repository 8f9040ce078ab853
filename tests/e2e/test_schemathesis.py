"""Schemathesis against the service's own /openapi.json, in process, on the in-memory adapter.

Three tests, all judged by the same schemathesis checks:

- every operation the document describes, with generated requests: the coverage phase's
  boundary and schema-violating cases, then fuzzing;
- stateful workflows over the links schemathesis infers from the document (create a task,
  then read, change, complete and delete it), so that real tasks and their ETags are exercised;
- a few explicit requests at the edges the generators seldom reach, each one a regression
  check for a defect found here.

Every response must be one the document allows: never a 5xx; a documented status, content type
and headers; a body matching the documented schema; a schema-violating request refused; no
method the document omits answered with anything but 405 and `Allow`; OPTIONS' `Allow` naming
exactly the documented methods.

Bounded and repeatable for CI: a fixed seed, derandomized Hypothesis, no example database, a
capped number of examples per operation and a per-request timeout.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app

SEED = 20261122
MAX_EXAMPLES = 30
STATEFUL_STEPS = 8
REQUEST_TIMEOUT_SECONDS = 10

# Response checks for every request. `positive_data_acceptance` is deliberately absent: an
# opaque `cursor` (any string, per the document) cannot be told valid by any schema, and an
# `If-Match` of any string is rightly answered with 412.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
]
# Checks that need the scenario's earlier responses: a deleted task is gone, a created one is there.
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]

HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=timedelta(seconds=5),
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "request-timeout": REQUEST_TIMEOUT_SECONDS,
    }
)

# Loaded at import: schemathesis' lazy loader (`schemathesis.pytest.from_fixture`) fails under
# pytest 9.2 (it sets `Node._nodeid`, which pytest no longer has). Fetching the document runs
# the app's lifespan (storage start) on schemathesis' own event loop thread, where every request
# below is served. schemathesis' pytest plugin ends ASGI lifespans after each test; the next
# request starts this one again (the in-memory store, held by the container, survives).
APP = create_app(Container(settings=Settings(task_store="memory")))
# The live stream never ends, so no response can be checked whole: tests/e2e/test_events.py
# covers it over real sockets.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    path="/api/{user_id}/events"
)


@schema.parametrize()
@HYPOTHESIS
def test_operation_conforms_to_the_document(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


class _Workflow(schema.as_state_machine()):
    """Each scenario gets an app of its own with an empty store, so that a scenario replayed
    while Hypothesis shrinks a failure meets the same state (a shared store would answer it
    differently, which Hypothesis reports as flaky data generation instead of the failure)."""

    def setup(self) -> None:
        self.app = create_app(Container(settings=Settings(task_store="memory")))

    def teardown(self) -> None:
        asgi.shutdown_lifespans()  # this scenario's app (the module's restarts on its next request)

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"app": self.app}

    def validate_response(
        self, response: schemathesis.Response, case: schemathesis.Case, **kwargs: Any
    ) -> None:
        case.validate_response(
            response,
            checks=STATEFUL_CHECKS,
            transport_kwargs=kwargs or None,
            recorder=self.recorder,
        )


def test_workflows_conform_to_the_document() -> None:
    _Workflow.run(settings=settings(HYPOTHESIS, stateful_step_count=STATEFUL_STEPS))


_TASKS = "/api/{user_id}/tasks"


def _edge(
    path: str,
    method: str,
    *,
    status: int | None = None,
    user_id: str = "schemathesis-edge",
    **case: Any,
) -> Any:
    return pytest.param(path, method, {"path_parameters": {"user_id": user_id}, **case}, status)


# Requests the generators reach only by luck. `status` is asserted where the checks cannot tell
# (they judge a request built by hand as neither valid nor invalid).
EDGE_CASES = {
    # Schema-valid date-times whose conversion to UTC leaves Python's datetime range.
    "due_at-below-datetime-range": _edge(
        _TASKS, "POST", body={"title": "edge", "due_at": "0001-01-01T00:00:00+01:00"}
    ),
    "due_at-above-datetime-range": _edge(
        _TASKS, "POST", body={"title": "edge", "due_at": "9999-12-31T23:59:59-01:00"}
    ),
    # Not JSON (not UTF-8): 400 MALFORMED_REQUEST, never a 500.
    "body-not-utf8": _edge(
        _TASKS, "POST", body=b'{"title": "\xff"}', media_type="application/json", status=400
    ),
    # due_before and due_after are RFC 3339 timestamps, not epoch seconds.
    "due_before-epoch-seconds": _edge(
        _TASKS, "GET", query={"due_before": "1700000000"}, status=422
    ),
    "due_after-epoch-fraction": _edge(_TASKS, "GET", query={"due_after": "0.5"}, status=422),
    # Litestar reads the word `null` as "absent" for these, and keeps the last of repeated values.
    "completed-the-word-null": _edge(_TASKS, "GET", query={"completed": "null"}, status=422),
    "priority-the-word-null": _edge(_TASKS, "GET", query={"priority": "null"}, status=422),
    "limit-out-of-range-then-repeated": _edge(
        _TASKS, "GET", query={"limit": ["9999", "1"]}, status=422
    ),
    # user_ids the document allows but no URL can carry: clients remove dot segments.
    "user_id-dot": _edge(_TASKS, "GET", user_id="."),
    "user_id-dot-dot": _edge(_TASKS, "GET", user_id=".."),
}


@pytest.mark.parametrize(
    ("path", "method", "case_data", "status"), EDGE_CASES.values(), ids=EDGE_CASES.keys()
)
def test_edge_case_conforms_to_the_document(
    path: str, method: str, case_data: dict[str, Any], status: int | None
) -> None:
    case = schema[path][method].Case(**case_data)
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    if status is not None:
        assert response.status_code == status, response.text
