"""The OpenAPI 3.1 document of the whole server: valid, complete, and kept by the live server
(a bounded schemathesis run: no 5xx, every status documented, every body as described)."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ingest_server.console_api import HANDLERS
from ingest_server.console_api.base import API_PREFIX
from tests.e2e.console_api.conftest import PASSWORD

EXAMPLES_PER_OPERATION = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_document_is_valid_openapi_3_1(console_server):
    document = httpx.get(f"{console_server.url}/api/v1/openapi.json").json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    paths = set(document["paths"])
    assert {"/api/v1/enroll", "/api/v1/telemetry", "/healthz", "/metrics"} <= paths
    assert {API_PREFIX + h.path for h in HANDLERS} <= paths
    for handler in HANDLERS:
        documented = set(document["paths"][API_PREFIX + handler.path])
        assert documented == set(handler.operations)


@pytest.fixture(scope="module")
def superadmin_token(console_server, superadmin_name) -> str:
    answer = httpx.post(
        f"{console_server.url}/api/v1/auth/login",
        json={"username": superadmin_name, "password": PASSWORD},
    )
    return answer.json()["access_token"]


def test_the_live_server_keeps_its_document(console_server, superadmin_token):
    """Every operation gets a few generated requests (logging out would end the run's session)."""
    schema = (
        schemathesis.openapi.from_url(f"{console_server.url}/api/v1/openapi.json")
        .exclude(path="/api/v1/auth/logout")
        .exclude(method="DELETE", path_regex="^/api/v1/me/sessions/")
    )
    headers = {"Authorization": f"Bearer {superadmin_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case) -> None:
            case.call_and_validate(base_url=console_server.url, headers=headers, checks=CHECKS)

        call()
