"""Route declarations: how query strings and bodies are parsed, and the document made of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from openapi_spec_validator import validate

from argos_core.services.wire import WireError
from ingest_server.console_api import openapi_document
from ingest_server.console_api.agents import TelemetryQuery
from ingest_server.console_api.audit_log import AuditQuery
from ingest_server.console_api.declarations import parse_body, parse_query
from ingest_server.console_api.orgs import ChoicesQuery, NameBody, PageQuery


def args(**values: str | list[str]) -> dict[str, list[bytes]]:
    return {k: [x.encode() for x in (v if isinstance(v, list) else [v])] for k, v in values.items()}


def test_times_are_unix_seconds_or_rfc3339_with_an_offset():
    q = parse_query(TelemetryQuery, args(since="1764000000", until="2025-11-24T17:00:00+01:00"))
    assert q.since == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    assert q.until == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    for bad in ("2025-11-24T17:00:00", "yesterday", "-1", "1e300"):
        with pytest.raises(WireError) as caught:
            parse_query(TelemetryQuery, args(since=bad, until="1764000000"))
        assert caught.value.path == "since"


def test_defaults_bounds_lists_and_booleans():
    assert parse_query(PageQuery, {}) == PageQuery(0, 100)
    with pytest.raises(WireError, match="at most 500"):
        parse_query(PageQuery, args(limit="501"))
    assert parse_query(ChoicesQuery, args(kinds=["branch", "company"])).kinds == [
        "branch",
        "company",
    ]
    with pytest.raises(WireError):
        parse_query(ChoicesQuery, args(kinds=["planet"]))
    assert parse_query(AuditQuery, args(descending="false")).descending is False
    with pytest.raises(WireError, match="required"):
        parse_query(TelemetryQuery, args(since="0"))


def test_bodies_refuse_overlong_text():
    assert parse_body(NameBody, {"name": "Lyon"}) == NameBody("Lyon")
    with pytest.raises(WireError, match="at most 1000"):
        parse_body(NameBody, {"name": "x" * 1001})


def test_the_document_is_valid_and_states_the_declared_bounds():
    document = openapi_document()
    validate(document)
    agents = document["paths"]["/api/v1/orgs/{org_id}/agents"]["get"]
    limit = next(p for p in agents["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)
    assert "304" in agents["responses"] and agents["security"] == [{"person": []}]
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == [] and set(login["responses"]) >= {"200", "400", "401"}
    assert document["paths"]["/api/v1/telemetry"]["post"]["security"] == [{"agent": []}]
