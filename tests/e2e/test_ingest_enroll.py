"""POST /api/v1/enroll against a real server and database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from argos_core.models import EnrollmentKey, utcnow
from tests.e2e.support import ROOT, make_branch, post_json, request

ENROLL = "/api/v1/enroll"


def test_new_host_enrolls_with_201_agent_id_token_and_interval(ingest_server, branch):
    reply = post_json(ingest_server.url, ENROLL, branch.inventory(cpu_count=4, boot_time=1e9))
    assert reply.status == 201
    data = reply.json
    assert set(data) == {"agent_id", "token", "report_interval_s"}
    assert data["report_interval_s"] == 30
    assert ingest_server.signer.verify(data["token"]) == data["agent_id"]


def test_same_machine_enrolling_again_gets_same_agent_200_and_a_fresh_working_token(
    ingest_server, branch, ingest_services
):
    body = branch.inventory(machine_id="machine-again")
    first = post_json(ingest_server.url, ENROLL, body)
    second = post_json(ingest_server.url, ENROLL, {**body, "hostname": "renamed"})
    assert (first.status, second.status) == (201, 200)
    assert first.json["agent_id"] == second.json["agent_id"]
    detail = ingest_services.agents.get_agent(ROOT, second.json["agent_id"])
    assert detail.summary.hostname == "renamed"
    reply = post_json(
        ingest_server.url,
        "/api/v1/telemetry",
        {"samples": [{"ts": 1_700_000_000, "cpu_percent": 1}]},
        token=second.json["token"],
    )
    assert reply.status == 200


def _refusals(ingest_server, ingest_services):
    """One enrollment attempt per refusal reason; every answer must be the same 401."""
    good = make_branch(ingest_services)
    expired = make_branch(ingest_services)
    with ingest_services.engine.begin() as conn:
        conn.execute(
            update(EnrollmentKey)
            .where(EnrollmentKey.id == expired.key_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    revoked = make_branch(ingest_services)
    ingest_services.enrollment.revoke_key(ROOT, revoked.key_id)
    return {
        "wrong key": {**good.inventory(), "enrollment_key": "not-the-key"},
        "key of another branch": {**good.inventory(), "enrollment_key": revoked.key},
        "expired key": expired.inventory(),
        "revoked key": revoked.inventory(),
        "unknown branch": {**good.inventory(), "branch_org_id": "ZZZZZZ"},
        "malformed org id": {**good.inventory(), "branch_org_id": "no!"},
        "empty key": {**good.inventory(), "enrollment_key": ""},
    }


def test_every_refusal_is_the_same_401(ingest_server, ingest_services):
    answers = {
        reason: post_json(ingest_server.url, ENROLL, body)
        for reason, body in _refusals(ingest_server, ingest_services).items()
    }
    assert {reason: r.status for reason, r in answers.items()} == dict.fromkeys(answers, 401)
    assert len({r.body for r in answers.values()}) == 1
    assert next(iter(answers.values())).json["error"] == "unauthorized"


def test_revoked_agent_cannot_re_enroll_and_gets_the_same_401(
    ingest_server, branch, ingest_services
):
    body = branch.inventory()
    agent_id = post_json(ingest_server.url, ENROLL, body).json["agent_id"]
    ingest_services.agents.revoke_agent(ROOT, agent_id)
    reply = post_json(ingest_server.url, ENROLL, body)
    wrong = post_json(ingest_server.url, ENROLL, {**body, "enrollment_key": "nope"})
    assert reply.status == 401
    assert reply.body == wrong.body


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {"branch_org_id": 5, "enrollment_key": "k", "hostname": "h", "machine_id": "m"},
        {"enrollment_key": "k", "hostname": "h", "machine_id": "m"},
        "missing hostname",
        "cpu_count negative",
        "ip_addresses not a list",
    ],
)
def test_malformed_enrollment_body_is_400(ingest_server, branch, body):
    if body == "missing hostname":
        body = {k: v for k, v in branch.inventory().items() if k != "hostname"}
    elif body == "cpu_count negative":
        body = branch.inventory(cpu_count=-1)
    elif body == "ip_addresses not a list":
        body = branch.inventory(ip_addresses="10.0.0.1")
    reply = post_json(ingest_server.url, ENROLL, body)
    assert reply.status == 400
    assert set(reply.json) == {"error", "message", "details"}


def test_enrollment_body_that_is_not_json_is_400_and_wrong_media_type_is_415(ingest_server):
    bad = request(ingest_server.url, "POST", ENROLL, b"{nope", {"Content-Type": "application/json"})
    wrong = request(ingest_server.url, "POST", ENROLL, b"{}", {"Content-Type": "text/plain"})
    assert (bad.status, wrong.status) == (400, 415)
    assert bad.json["error"] == "invalid_json"
