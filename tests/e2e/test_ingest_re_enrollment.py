"""Re-enrolling a host (same branch and machine id: what an attacker with the branch key and
a victim's world-readable /etc/machine-id can do) invalidates every token issued to it
before, on every server process at once, and leaves a trace: an audit entry with the source
address, and the time and address in the agent's detail."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.support import ROOT, ServerThread, post_json

ENROLL = "/api/v1/enroll"
TELEMETRY = "/api/v1/telemetry"


def report(server: ServerThread, token: str, ts: int):
    return post_json(
        server.url, TELEMETRY, {"samples": [{"ts": ts, "cpu_percent": 5.0}]}, token=token
    )


@pytest.fixture(scope="module")
def second_server(ingest_db: str) -> Iterator[ServerThread]:
    """Another server process on the same database, as with --processes N or N hosts."""
    server = ServerThread(ingest_db, TEST_CONFIG).start()
    yield server
    server.stop()


def test_re_enrolling_a_host_invalidates_its_earlier_token(ingest_server, branch):
    body = branch.inventory(machine_id="victim-machine")
    victim = post_json(ingest_server.url, ENROLL, body).json
    ts = int(time.time()) - 60
    assert report(ingest_server, victim["token"], ts).status == 200  # its agent is cached now

    thief = post_json(ingest_server.url, ENROLL, {**body, "hostname": "thief"})
    assert (thief.status, thief.json["agent_id"]) == (200, victim["agent_id"])

    refused = report(ingest_server, victim["token"], ts + 1)
    assert refused.status == 401
    assert "enrolled again" in refused.json["message"]
    assert report(ingest_server, thief.json["token"], ts + 2).status == 200


def test_an_earlier_token_is_refused_by_every_server_process(ingest_server, second_server, branch):
    body = branch.inventory(machine_id="victim-elsewhere")
    victim = post_json(ingest_server.url, ENROLL, body).json
    ts = int(time.time()) - 60
    # Both processes have checked (and cached) the victim's token.
    assert report(ingest_server, victim["token"], ts).status == 200
    assert report(second_server, victim["token"], ts + 1).status == 200

    thief = post_json(second_server.url, ENROLL, body).json

    assert report(ingest_server, victim["token"], ts + 2).status == 401
    assert report(second_server, victim["token"], ts + 3).status == 401
    assert report(ingest_server, thief["token"], ts + 4).status == 200
    assert report(second_server, thief["token"], ts + 5).status == 200


def test_re_enrollment_is_audited_and_shown_with_its_time_and_address(
    ingest_server, branch, ingest_services
):
    body = branch.inventory(machine_id="audited-machine")
    agent_id = post_json(ingest_server.url, ENROLL, body).json["agent_id"]
    assert ingest_services.agents.get_agent(ROOT, agent_id).re_enrolled_at is None

    before = time.time()
    assert post_json(ingest_server.url, ENROLL, body).status == 200

    detail = ingest_services.agents.get_agent(ROOT, agent_id)
    assert detail.re_enrolled_from == "127.0.0.1"
    assert detail.re_enrolled_at is not None and detail.re_enrolled_at.timestamp() >= before - 1
    entries = ingest_services.audit.list_entries(ROOT, action="agent.re_enroll", limit=1000)
    mine = [e for e in entries.items if e.target == agent_id]
    assert len(mine) == 1
    assert (mine[0].source, mine[0].after["from"]) == ("ingest:127.0.0.1", "127.0.0.1")
