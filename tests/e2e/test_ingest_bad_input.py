"""What a client can get wrong must come back as a 400 naming the field: text that is not
valid Unicode (a lone surrogate as a JSON escape or as raw bytes) on every endpoint, and values
the database refuses. Never a 500 with a traceback in the log, never a 503 that makes an agent
retry forever."""

from __future__ import annotations

import json
import logging

import pytest

from tests.e2e.support import ROOT, request

ENROLL = "/api/v1/enroll"
JSON = {"Content-Type": "application/json"}
MARK = "@LONE@"
# The same lone surrogate (U+D800) written as a JSON escape and as raw (CESU-8) bytes.
FORMS = {"escape": b"\\ud800", "raw bytes": b"\xed\xa0\x80"}


def with_lone_surrogate(document: object, form: str) -> bytes:
    """``document`` as JSON, each ``MARK`` replaced by a lone surrogate in the given form."""
    return json.dumps(document).encode().replace(MARK.encode(), FORMS[form])


def assert_names_the_field(reply, field: str) -> None:
    assert reply.status == 400, reply.body
    error = reply.json
    assert error["details"] == [
        {"field": field, "message": "is not valid Unicode (it holds a lone surrogate)"}
    ]
    assert f"'{field}'" in error["message"]


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def assert_quiet(log: pytest.LogCaptureFixture) -> None:
    """No traceback and nothing at ERROR: a bad request must not flood the server's log."""
    loud = [r for r in log.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not loud, [r.getMessage() for r in loud]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "field", ["branch_org_id", "enrollment_key", "hostname", "machine_id", "os", "agent_version"]
)
def test_enrollment_text_that_is_not_unicode_is_a_400_naming_the_field(
    ingest_server, branch, server_log, field, form
):
    body = with_lone_surrogate({**branch.inventory(), field: f"x{MARK}"}, form)
    reply = request(ingest_server.url, "POST", ENROLL, body, JSON)
    assert_names_the_field(reply, field)
    assert_quiet(server_log)


@pytest.mark.parametrize("form", FORMS)
def test_an_inventory_list_with_a_lone_surrogate_is_a_400_not_a_503(
    ingest_server, branch, ingest_services, server_log, form
):
    machine = f"m-ip-{form.replace(' ', '-')}"
    inventory = branch.inventory(machine_id=machine, ip_addresses=["10.0.0.1", MARK])
    reply = request(ingest_server.url, "POST", ENROLL, with_lone_surrogate(inventory, form), JSON)
    assert_names_the_field(reply, "ip_addresses[1]")
    assert_quiet(server_log)
    assert ingest_services.agents.list_agents(ROOT, branch.org_id).total == 0


@pytest.mark.parametrize("form", FORMS)
def test_telemetry_with_a_lone_surrogate_anywhere_is_a_400_naming_where(
    ingest_server, agent, server_log, form
):
    body = {"samples": [{"ts": 1_700_000_000, "cpu_percent": 1.0, f"note{MARK}": 1}]}
    reply = request(
        ingest_server.url,
        "POST",
        "/api/v1/telemetry",
        with_lone_surrogate(body, form),
        {**JSON, "Authorization": f"Bearer {agent.token}"},
    )
    assert reply.status == 400, reply.body
    assert reply.json["details"][0]["field"] == "samples[0]"
    assert_quiet(server_log)


@pytest.mark.parametrize("form", FORMS)
def test_otlp_json_with_a_lone_surrogate_is_a_400_naming_the_attribute(
    ingest_server, branch, server_log, form
):
    export = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "host.name", "value": {"stringValue": f"h{MARK}"}}]
                },
                "scopeMetrics": [],
            }
        ]
    }
    reply = request(
        ingest_server.url,
        "POST",
        "/v1/metrics",
        with_lone_surrogate(export, form),
        {**JSON, "Authorization": f"Bearer {branch.key}"},
    )
    assert reply.status == 400, reply.body
    field = "resourceMetrics[0].resource.attributes[0].value.stringValue"
    assert f"'{field}'" in reply.json["message"]
    assert_quiet(server_log)
