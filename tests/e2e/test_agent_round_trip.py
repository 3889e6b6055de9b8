"""The reference agent and the simulator as real processes, through the real server, into the
database, and back out through the service the console uses."""

from __future__ import annotations

import json
import time

from tests.e2e.conftest import count_rows
from tests.e2e.processes import agent as agent_process
from tests.e2e.support import ROOT, make_branch
from tests.factories import agent_row

# Generous: these are child processes on a 2-core machine that may be busy building or
# testing in parallel; the waits end as soon as the condition holds.
PROCESS_DEADLINE_S = 60


def _agent_ids(services, branch_org_id: str) -> list[str]:
    page = services.agents.list_agents(ROOT, branch_org_id, limit=1000)
    return [a.uuid for a in page.items]


def test_agent_reports_host_metrics_that_the_console_service_reads_back(
    ingest_server, ingest_services, tmp_path
):
    branch = make_branch(ingest_services)
    state = tmp_path / "state.json"
    started = int(time.time())
    proc = agent_process(
        "--server",
        ingest_server.url,
        "--branch",
        branch.org_id,
        "--enrollment-key",
        branch.key,
        "--interval",
        "1",
        "--state-file",
        str(state),
    )
    try:
        proc.wait_for(state.exists, PROCESS_DEADLINE_S, "the agent writes its state file")
        agent_uuid = json.loads(state.read_text())["agent_id"]
        agent_id = agent_row(ingest_services, agent_uuid).agent_id
        proc.wait_for(
            lambda: count_rows(ingest_services, agent_id) >= 2,
            PROCESS_DEADLINE_S,
            "two samples stored",
        )
        code = proc.terminate(10)
    finally:
        proc.kill()
    assert code == 0, proc.report()
    series = ingest_services.telemetry.telemetry_range(
        ROOT, agent_uuid, started - 5, int(time.time()) + 5
    )
    assert len(series.ts) >= 2
    assert all(0 <= v <= 100 for v in series.metrics["mem_percent"])
    assert all(v is not None and v > 0 for v in series.metrics["uptime_s"])
    detail = ingest_services.agents.get_agent(ROOT, agent_uuid)
    assert detail.summary.status.value == "online"
    assert detail.cpu_count and detail.memory_total_bytes
    assert json.loads(state.read_text())["token"]


def test_agent_restarting_with_its_state_file_keeps_its_identity(
    ingest_server, ingest_services, tmp_path
):
    branch = make_branch(ingest_services)
    state = tmp_path / "state.json"
    args = (
        "--server",
        ingest_server.url,
        "--branch",
        branch.org_id,
        "--interval",
        "1",
        "--state-file",
        str(state),
    )
    first = agent_process(*args, "--enrollment-key", branch.key)
    try:
        first.wait_for(state.exists, PROCESS_DEADLINE_S, "the agent writes its state file")
        assert first.terminate(10) == 0, first.report()
    finally:
        first.kill()
    agent_uuid = json.loads(state.read_text())["agent_id"]
    agent_id = agent_row(ingest_services, agent_uuid).agent_id
    before = count_rows(ingest_services, agent_id)
    second = agent_process(*args)  # no key needed: the token is in the state file
    try:
        second.wait_for(
            lambda: count_rows(ingest_services, agent_id) > before,
            PROCESS_DEADLINE_S,
            "the restarted agent reports under its old identity",
        )
        assert second.terminate(10) == 0, second.report()
    finally:
        second.kill()
    assert _agent_ids(ingest_services, branch.org_id) == [agent_uuid]


def test_simulated_fleet_enrolls_and_reports_then_stops_on_sigterm(ingest_server, ingest_services):
    branch = make_branch(ingest_services)
    proc = agent_process(
        "simulate",
        "--server",
        ingest_server.url,
        "--branch",
        branch.org_id,
        "--enrollment-key",
        branch.key,
        "--agents",
        "25",
        "--interval",
        "1",
    )
    try:
        assert "simulating 25 agents" in proc.first_line()
        proc.wait_for(
            lambda: len(_agent_ids(ingest_services, branch.org_id)) == 25,
            PROCESS_DEADLINE_S,
            "25 agents enrolled",
        )
        ids = [
            agent_row(ingest_services, u).agent_id
            for u in _agent_ids(ingest_services, branch.org_id)
        ]
        proc.wait_for(
            lambda: all(count_rows(ingest_services, i) >= 2 for i in ids),
            PROCESS_DEADLINE_S,
            "two samples stored for every simulated agent",
        )
        code = proc.terminate(10)
    finally:
        proc.kill()
    assert code == 0, proc.report()
    assert "stopped; 25 agents enrolled" in proc.lines[-1]
    series = [
        ingest_services.telemetry.telemetry_range(
            ROOT, u, int(time.time()) - 600, int(time.time()) + 10
        )
        for u in _agent_ids(ingest_services, branch.org_id)
    ]
    cpu_levels = {round(s.metrics["cpu_percent"][0]) for s in series}
    assert len(cpu_levels) > 5  # hosts differ from one another


def test_simulator_with_a_wrong_key_fails_with_one_line(ingest_server, ingest_services):
    branch = make_branch(ingest_services)
    proc = agent_process(
        "simulate",
        "--server",
        ingest_server.url,
        "--branch",
        branch.org_id,
        "--enrollment-key",
        "wrong",
        "--agents",
        "3",
        "--interval",
        "1",
    )
    try:
        code = proc.wait(30)
    finally:
        proc.kill()
    assert code == 1, proc.report()
    assert proc.stderr.strip().splitlines()[-1].startswith("argos-agent: enrollment refused")
