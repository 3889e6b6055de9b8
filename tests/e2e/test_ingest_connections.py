"""Connections that cost the server without ever finishing a request, driven with raw sockets
against a real server: idle keep-alive, headers or a body sent a byte at a time, more
connections than the cap, bodies over the hard cap. The server closes each of them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ingest_server.context import HARD_BODY_CAP
from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.support import ServerThread, wait_until

TIMEOUT_S = 1.0
CAP = 3
# How long a test waits for the server to act before calling it a failure: far beyond the
# configured timeouts, far below Tornado's defaults (an hour idle, no body timeout).
PATIENCE_S = 20.0
HEALTH = b"GET /healthz HTTP/1.1\r\nHost: argos\r\n\r\n"


@pytest.fixture(scope="module")
def strict_server(ingest_db: str) -> Iterator[ServerThread]:
    config = replace(
        TEST_CONFIG, idle_timeout_s=TIMEOUT_S, body_timeout_s=TIMEOUT_S, max_connections=CAP
    )
    server = ServerThread(ingest_db, config).start()
    yield server
    server.stop()


def connect(server: ServerThread) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE_S)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed the connection (EOF or reset), reading whatever it
    sent first; False if it stays open for PATIENCE_S."""
    sock.settimeout(PATIENCE_S)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk, "the answer was cut short"
        body += chunk
    return status, headers, body


def test_an_idle_keep_alive_connection_is_closed(strict_server):
    with connect(strict_server) as sock:
        sock.sendall(HEALTH)
        assert read_answer(sock)[0] == 200
        assert closed_by_server(sock)


def test_headers_sent_a_byte_at_a_time_do_not_keep_a_connection(strict_server):
    with connect(strict_server) as sock:
        sock.sendall(b"POST /api/v1/enroll HTTP/1.1\r\nHost: argos\r\nX-Pad: ")
        sock.settimeout(0.05)  # the attack's pace: a byte whenever 50 ms pass without news
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline:
            try:
                if sock.recv(65536) == b"":
                    return  # closed by the server
            except TimeoutError:
                pass
            except ConnectionResetError:
                return
            try:
                sock.sendall(b"a")
            except OSError:
                return
        pytest.fail("the server kept a connection that dribbles its headers open")


def test_a_body_that_stops_coming_is_closed(strict_server):
    with connect(strict_server) as sock:
        sock.sendall(
            b"POST /api/v1/enroll HTTP/1.1\r\nHost: argos\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"hostname":'
        )
        assert closed_by_server(sock)


def test_connections_over_the_cap_are_answered_503_and_closed_until_places_free_up(strict_server):
    held = [connect(strict_server) for _ in range(CAP)]
    try:
        for sock in held:  # each is served, so the server counts it as open
            sock.sendall(HEALTH)
            assert read_answer(sock)[0] == 200
        with connect(strict_server) as extra:
            status, headers, body = read_answer(extra)
            assert (status, headers["retry-after"]) == (503, "1")
            assert json.loads(body)["error"] == "unavailable"
            assert closed_by_server(extra)
    finally:
        for sock in held:
            sock.close()
    assert wait_until(lambda: serves(strict_server), PATIENCE_S), "closing did not free places"


def serves(server: ServerThread) -> bool:
    with connect(server) as sock:
        sock.sendall(HEALTH)
        return read_answer(sock)[0] == 200


def test_a_declared_body_over_the_hard_cap_gets_a_json_413_and_a_close(strict_server):
    with connect(strict_server) as sock:
        sock.sendall(
            b"POST /api/v1/telemetry HTTP/1.1\r\nHost: argos\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {HARD_BODY_CAP + 1}\r\n\r\n".encode()
        )
        status, headers, body = read_answer(sock)
        assert (status, headers["connection"]) == (413, "close")
        assert json.loads(body)["error"] == "payload_too_large"
        assert closed_by_server(sock)


def test_a_chunked_body_over_the_hard_cap_gets_a_json_413_and_a_close(strict_server):
    chunk = b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n"
    with connect(strict_server) as sock:
        sock.sendall(
            b"POST /api/v1/enroll HTTP/1.1\r\nHost: argos\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )

        def send_until_refused() -> None:
            try:
                for _ in range(HARD_BODY_CAP // (1 << 20) + 8):
                    sock.sendall(chunk)
            except OSError:
                pass

        sender = threading.Thread(target=send_until_refused, daemon=True)
        sender.start()
        status, headers, body = read_answer(sock)
        assert (status, headers["connection"]) == (413, "close")
        assert json.loads(body)["error"] == "payload_too_large"
        sender.join(PATIENCE_S)
