"""HTTPS with ``--tls-cert/--tls-key``: certificates made with trustme; a client that trusts
the CA gets through, one that does not is refused with a certificate error."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import trustme

from tests.e2e import processes
from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.support import ServerThread


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    where = tmp_path_factory.mktemp("tls")
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = where / "server.pem", where / "server.key"
    issued.cert_chain_pems[0].write_to_path(cert)
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(cert, append=True)
    issued.private_key_pem.write_to_path(key)
    return str(cert), str(key)


@pytest.fixture(scope="module")
def https_server(ingest_db: str, cert_files: tuple[str, str]) -> Iterator[str]:
    cert, key = cert_files
    server = ServerThread(ingest_db, replace(TEST_CONFIG, tls_cert=cert, tls_key=key)).start()
    yield server.url.replace("http://", "https://")
    server.stop()


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_a_client_that_trusts_the_ca_gets_through(https_server: str, ca: trustme.CA):
    with httpx.Client(verify=trusting(ca)) as client:
        assert client.get(f"{https_server}/healthz").json()["status"] == "ok"
        login = client.post(
            f"{https_server}/api/v1/auth/login", json={"username": "x-nobody", "password": "y"}
        )
        assert login.status_code == 401


def test_a_client_that_does_not_trust_the_ca_is_refused(https_server: str):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_server}/healthz")


def test_plain_http_is_not_served_on_the_https_port(https_server: str):
    with pytest.raises(httpx.HTTPError):
        httpx.get(https_server.replace("https://", "http://") + "/healthz", timeout=5)


def test_argos_ingest_serves_https_and_says_so(
    cert_files: tuple[str, str], ca: trustme.CA, tmp_path: Path
):
    cert, key = cert_files
    url = f"sqlite:///{tmp_path / 'tls.db'}"
    child = processes.ingest(
        "--database-url", url, "--port", "0", "--tls-cert", cert, "--tls-key", key
    )
    try:
        line = child.first_line()
        assert "listening on https://" in line, line
        address = line.split("listening on ")[1].split()[0]
        with httpx.Client(verify=trusting(ca)) as client:
            assert client.get(f"{address}/healthz").status_code == 200
    finally:
        assert child.terminate() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], "not found"),
        (["--tls-cert", "only-cert.pem"], "go together"),
    ],
)
def test_tls_mistakes_are_one_line(args: list[str], message: str, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'tls.db'}"
    child = processes.ingest("--database-url", url, "--port", "0", *args)
    assert child.wait(60) != 0
    lines = child.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], child.stderr


def test_a_key_that_does_not_match_the_certificate_is_one_line(
    cert_files: tuple[str, str], ca: trustme.CA, tmp_path: Path
):
    other_key = tmp_path / "other.key"
    ca.issue_cert("elsewhere").private_key_pem.write_to_path(other_key)
    url = f"sqlite:///{tmp_path / 'tls.db'}"
    child = processes.ingest(
        "--database-url",
        url,
        "--port",
        "0",
        "--tls-cert",
        cert_files[0],
        "--tls-key",
        str(other_key),
    )
    assert child.wait(60) != 0
    lines = child.stderr.strip().splitlines()
    assert len(lines) == 1 and "certificate and key" in lines[0], child.stderr
