"""Alerts in the running server: samples accepted over HTTP open and resolve threshold
alerts (evaluated beside the group-commit writer), and a restart keeps the open alert."""

from __future__ import annotations

from ingest_server.context import IngestConfig
from tests.e2e.support import ROOT, ServerThread, enroll, make_branch, post_json, sample, wait_until

T0 = 1_790_000_000
FAST = IngestConfig(agent_rate=0, alert_evaluate_interval_s=0.05)
WAIT_S = 30


def post(server, agent, ts, cpu):
    reply = post_json(
        server.url,
        "/api/v1/telemetry",
        {"samples": [sample(ts, cpu_percent=cpu)]},
        token=agent.token,
    )
    assert reply.status == 200, reply.body


def test_samples_accepted_by_the_server_open_and_resolve_alerts_across_a_restart(
    fresh_database_url, fresh_services
):
    branch = make_branch(fresh_services)
    company = fresh_services.orgs.get_node(ROOT, branch.org_id).parent_org_id
    fresh_services.alerts.create_rule(
        ROOT,
        company,
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        recover_at=80,
        samples=2,
        severity="critical",
    )
    server = ServerThread(fresh_database_url, FAST).start()
    try:
        agent = enroll(server, branch, fresh_services)
        post(server, agent, T0, 97.0)
        post(server, agent, T0 + 30, 98.0)
        assert wait_until(lambda: fresh_services.alerts.list_alerts(ROOT).total == 1, WAIT_S)
    finally:
        server.stop()
    [alert] = fresh_services.alerts.list_alerts(ROOT).items
    assert (alert.agent_id, alert.value, alert.state) == (agent.agent_uuid, 98.0, "open")
    server = ServerThread(fresh_database_url, FAST).start()
    try:
        post(server, agent, T0 + 60, 85.0)  # between recovery and threshold: still open
        post(server, agent, T0 + 90, 20.0)
        assert wait_until(lambda: fresh_services.alerts.list_alerts(ROOT).total == 0, WAIT_S)
    finally:
        server.stop()
    [resolved] = fresh_services.alerts.list_alerts(ROOT, active=False).items
    assert resolved.id == alert.id and resolved.value == 20.0
