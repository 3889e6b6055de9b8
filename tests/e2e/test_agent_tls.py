"""The agent over HTTPS with trustme certificates: verified against --ca-file, refused (with one
clear sentence) without it. The TLS end is a small TLS terminator in front of the real ingest
server; the server itself speaks plain HTTP here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import trustme

from argos_agent.protocol import IngestClient, RetryLater
from tests.e2e.processes import agent as agent_process
from tests.e2e.processes import environment
from tests.e2e.support import ROOT, ServerThread, make_branch

PROCESS_DEADLINE_S = 60


class TlsTerminator:
    """Accepts TLS on 127.0.0.1 with ``context`` and relays the plain bytes to ``target_port``."""

    def __init__(self, context: ssl.SSLContext, target_port: int) -> None:
        self._context = context
        self._target_port = target_port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the TLS terminator did not start"
        assert self._server is not None
        self.port = self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", 0, ssl=self._context)
        )
        self._ready.set()
        self._loop.run_forever()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        sink.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await sink.wait_closed()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_url(ca: trustme.CA, ingest_server: ServerThread) -> Iterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    terminator = TlsTerminator(context, ingest_server.port)
    yield f"https://127.0.0.1:{terminator.port}"
    terminator.close()


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
