"""The reference agent keeps what it collects while the server is away on disk: a real server
process stopped and started again on the same port, real agent processes, a restart between."""

from __future__ import annotations

import json
import random
import socket
import time
from pathlib import Path

from argos_agent.main import buffer_path
from argos_agent.sample_buffer import read_journal
from tests.e2e.processes import agent as agent_process
from tests.e2e.processes import environment, ingest, listening_url
from tests.e2e.support import ROOT, make_branch

PROCESS_DEADLINE_S = 60


def _unused_fixed_port() -> int:
    """A free port below the ephemeral range, which outgoing connections never take, so it is
    still free when the server starts again on it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(100):
        port = rng.randrange(max(1024, low - 12_000), low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below the ephemeral range")


def _waiting(journal: Path) -> list[int]:
    return [sample["ts"] for _, sample in read_journal(journal)]


def test_samples_collected_while_the_server_is_down_survive_an_agent_restart(
    ingest_db, ingest_services, tmp_path
):
    branch = make_branch(ingest_services)
    state = tmp_path / "state.json"
    journal = buffer_path(state)
    port = _unused_fixed_port()
    started = int(time.time())
    server = ingest("--database-url", ingest_db, "--port", str(port))
    agent = None
    try:
        url = listening_url(server.first_line())
        args = ["--server", url, "--branch", branch.org_id, "--interval", "1"]
        args += ["--state-file", str(state)]
        # The key comes from the environment, never from the command line.
        agent = agent_process(*args, env=environment(ARGOS_ENROLLMENT_KEY=branch.key))
        agent.wait_for(state.exists, PROCESS_DEADLINE_S, "the agent enrolls")
        agent_uuid = json.loads(state.read_text())["agent_id"]

        def stored() -> set[int]:
            until = int(time.time()) + 5
            return set(
                ingest_services.telemetry.telemetry_range(ROOT, agent_uuid, started, until).ts
            )

        agent.wait_for(lambda: len(stored()) >= 1, PROCESS_DEADLINE_S, "a first sample stored")
        assert server.terminate(30) == 0, server.report()

        # The server is down: the agent keeps collecting into its journal.
        agent.wait_for(
            lambda: len(_waiting(journal)) >= 3, PROCESS_DEADLINE_S, "3 samples kept on disk"
        )
        assert agent.terminate(10) == 0, agent.report()
        kept_by_first_run = _waiting(journal)
        assert len(kept_by_first_run) >= 3
        assert not set(kept_by_first_run) & stored()

        agent = agent_process(*args)  # no key needed: the token is in the state file
        agent.wait_for(
            lambda: len(_waiting(journal)) > len(kept_by_first_run),
            PROCESS_DEADLINE_S,
            "the restarted agent keeps the earlier samples and adds its own",
        )
        waiting = _waiting(journal)
        assert waiting[: len(kept_by_first_run)] == kept_by_first_run

        server = ingest("--database-url", ingest_db, "--port", str(port))
        assert listening_url(server.first_line()) == url
        agent.wait_for(
            lambda: set(waiting) <= stored(), PROCESS_DEADLINE_S, "every kept sample stored"
        )
        assert agent.terminate(10) == 0, agent.report()
    finally:
        server.kill()
        if agent is not None:
            agent.kill()
    assert set(_waiting(journal)).isdisjoint(kept_by_first_run)
