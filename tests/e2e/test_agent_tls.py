"""The agent over HTTPS against the real server (``--tls-cert/--tls-key``) with trustme
certificates: verified against --ca-file, refused with one clear sentence without it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import trustme

from argos_agent.protocol import IngestClient, RetryLater
from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.processes import agent as agent_process
from tests.e2e.processes import environment
from tests.e2e.support import ROOT, ServerThread, make_branch

PROCESS_DEADLINE_S = 60


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_url(
    ca: trustme.CA, ingest_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    where = tmp_path_factory.mktemp("server-tls")
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = where / "server.pem", where / "server.key"
    issued.cert_chain_pems[0].write_to_path(cert)
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(cert, append=True)
    issued.private_key_pem.write_to_path(key)
    config = replace(TEST_CONFIG, tls_cert=str(cert), tls_key=str(key))
    server = ServerThread(ingest_db, config).start()
    yield server.url.replace("http://", "https://")
    server.stop()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def test_agent_reports_over_https_verified_with_its_ca_file(
    https_url, ca_file, ingest_services, tmp_path
):
    branch = make_branch(ingest_services)
    state = tmp_path / "state.json"
    proc = agent_process(
        "--server",
        https_url,
        "--branch",
        branch.org_id,
        "--ca-file",
        ca_file,
        "--interval",
        "1",
        "--state-file",
        str(state),
        env=environment(ARGOS_ENROLLMENT_KEY=branch.key),
    )
    try:
        proc.wait_for(state.exists, PROCESS_DEADLINE_S, "the agent enrolls over HTTPS")
        agent_uuid = json.loads(state.read_text())["agent_id"]
        assert ingest_services.agents.get_agent(ROOT, agent_uuid).summary.hostname

        def stored() -> int:
            now = int(time.time())
            return len(
                ingest_services.telemetry.telemetry_range(ROOT, agent_uuid, now - 600, now + 5).ts
            )

        proc.wait_for(lambda: stored() >= 2, PROCESS_DEADLINE_S, "two samples stored")
        assert proc.terminate(10) == 0, proc.report()
    finally:
        proc.kill()


def test_a_certificate_the_system_does_not_trust_is_one_clear_sentence(
    https_url, ingest_services, tmp_path
):
    """Without --ca-file the system's trust store is used, which does not know the test CA."""
    branch = make_branch(ingest_services)
    proc = agent_process(
        "--server",
        https_url,
        "--branch",
        branch.org_id,
        "--state-file",
        str(tmp_path / "state.json"),
        env=environment(ARGOS_ENROLLMENT_KEY=branch.key),
    )
    try:
        proc.wait_for(lambda: proc.stderr_lines, PROCESS_DEADLINE_S, "the agent logs a line")
        code = proc.terminate(10)
    finally:
        proc.kill()
    lines = proc.stderr_lines
    assert code == 0, proc.report()
    assert f"enrollment failed (the certificate of {https_url} cannot be verified: " in lines[0]
    assert "give the CA that signed it with --ca-file); retrying in" in lines[0]
    assert not any("Traceback" in line for line in lines), proc.report()
    assert not (tmp_path / "state.json").exists()


def test_the_client_names_the_reason_a_certificate_is_refused(https_url, tmp_path):
    other_ca = trustme.CA()
    wrong = tmp_path / "other-ca.pem"
    other_ca.cert_pem.write_to_path(str(wrong))

    async def enroll() -> None:
        client = IngestClient(https_url, ca_file=str(wrong))
        try:
            await client.enroll("ABCDE", "key", {"hostname": "h", "machine_id": "m"})
        finally:
            await client.close()

    with pytest.raises(RetryLater) as caught:
        asyncio.run(enroll())
    message = str(caught.value)
    assert message == (
        f"the certificate of {https_url} cannot be verified: unable to get local issuer"
        " certificate; give the CA that signed it with --ca-file"
    )
