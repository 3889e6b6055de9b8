"""The agent given several servers moves to another when the one it uses goes away."""

from __future__ import annotations

import json

from tests.e2e.conftest import TEST_CONFIG, count_rows
from tests.e2e.processes import agent as agent_process
from tests.e2e.support import ServerThread, make_branch
from tests.factories import agent_row

PROCESS_DEADLINE_S = 60


def test_agent_keeps_reporting_through_the_next_server_when_its_server_stops(
    ingest_db, ingest_server, ingest_services, tmp_path
):
    first = ServerThread(ingest_db, TEST_CONFIG).start()
    running = [first]
    branch = make_branch(ingest_services)
    state = tmp_path / "state.json"
    proc = agent_process(
        "--server",
        f"{first.url},{ingest_server.url}",
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
        proc.wait_for(state.exists, PROCESS_DEADLINE_S, "the agent enrolls through the first")
        agent_id = agent_row(ingest_services, json.loads(state.read_text())["agent_id"]).agent_id
        proc.wait_for(
            lambda: count_rows(ingest_services, agent_id) >= 2,
            PROCESS_DEADLINE_S,
            "samples stored through the first server",
        )
        running.pop().stop()
        stored = count_rows(ingest_services, agent_id)
        proc.wait_for(
            lambda: count_rows(ingest_services, agent_id) >= stored + 2,
            PROCESS_DEADLINE_S,
            "samples stored through the second server",
        )
        assert proc.terminate(10) == 0, proc.report()
    finally:
        proc.kill()
        for server in running:
            server.stop()
    assert json.loads(state.read_text())["server"] == f"{first.url},{ingest_server.url}"
