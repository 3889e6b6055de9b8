"""The ingest server's HTTP/1.1 framing (``ingest_server.http1``), byte for byte over a socket:
keep-alive and pipelining, chunked bodies, ``Expect: 100-continue``, HTTP/1.0, and requests
that cannot be framed."""

from __future__ import annotations

import json
import socket

from tests.e2e.conftest import count_rows
from tests.e2e.support import sample

TELEMETRY = "/api/v1/telemetry"
T0 = 1_795_000_000


class Raw:
    """One client connection that sends bytes and reads whole responses."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, *, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        length = 0 if head_only else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed_by_server(self) -> bool:
        return self.sock.recv(1) == b""

    def _more(self) -> None:
        data = self.sock.recv(65536)
        assert data, "the server closed the connection"
        self.buffer += data

    def close(self) -> None:
        self.sock.close()


def telemetry_head(token: str, extra: str = "") -> bytes:
    return (
        f"POST {TELEMETRY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\n{extra}"
    ).encode()


def body(ts: int) -> bytes:
    return json.dumps({"samples": [sample(ts)]}).encode()


def test_pipelined_requests_are_answered_in_order_on_one_connection(
    ingest_server, agent, ingest_services
):
    raw = Raw(ingest_server.port)
    try:
        data = b""
        for i in range(3):
            b = body(T0 + i)
            data += telemetry_head(agent.token, f"Content-Length: {len(b)}\r\n\r\n") + b
        data += b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        raw.send(data)
        answers = [raw.response() for _ in range(4)]
    finally:
        raw.close()
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    assert [json.loads(b)["accepted"] for _, _, b in answers[:3]] == [1, 1, 1]
    assert json.loads(answers[3][2]) == {"status": "ok", "database": "ok"}
    assert count_rows(ingest_services, agent.agent_id) == 3


def test_chunked_body_is_accepted(ingest_server, agent, ingest_services):
    b = body(T0 + 10)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (b[:7], b[7:])) + b"0\r\n\r\n"
    raw = Raw(ingest_server.port)
    try:
        raw.send(telemetry_head(agent.token, "Transfer-Encoding: chunked\r\n\r\n") + chunked)
        status, _, answer = raw.response()
    finally:
        raw.close()
    assert (status, json.loads(answer)["accepted"]) == (200, 1)
    assert count_rows(ingest_services, agent.agent_id) == 1


def test_expect_100_continue_gets_an_interim_answer_first(ingest_server, agent):
    b = body(T0 + 20)
    raw = Raw(ingest_server.port)
    try:
        raw.send(
            telemetry_head(agent.token, f"Expect: 100-continue\r\nContent-Length: {len(b)}\r\n\r\n")
        )
        interim, _, _ = raw.response()
        raw.send(b)
        status, _, answer = raw.response()
    finally:
        raw.close()
    assert (interim, status, json.loads(answer)["accepted"]) == (100, 200, 1)


def test_http_1_0_closes_unless_keep_alive_is_asked_for(ingest_server):
    raw = Raw(ingest_server.port)
    try:
        raw.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        status, _, _ = raw.response()
        closed = raw.closed_by_server()
    finally:
        raw.close()
    raw = Raw(ingest_server.port)
    try:
        raw.send(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        first, headers, _ = raw.response()
        raw.send(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        second, _, _ = raw.response()
    finally:
        raw.close()
    assert (status, closed) == (200, True)
    assert (first, second, headers["connection"].lower()) == (200, 200, "keep-alive")


def test_connection_close_is_honoured(ingest_server):
    raw = Raw(ingest_server.port)
    try:
        raw.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = raw.response()
        closed = raw.closed_by_server()
    finally:
        raw.close()
    assert (status, headers["connection"], closed) == (200, "close", True)


def test_requests_that_cannot_be_framed_get_a_json_400_and_the_connection_closes(
    ingest_server, agent, ingest_services
):
    cases = [
        b"NONSENSE\r\n\r\n",
        b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
        telemetry_head(agent.token, "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
        telemetry_head(agent.token, "Content-Length: -1\r\n\r\n"),
        telemetry_head(agent.token, "Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
    ]
    for data in cases:
        raw = Raw(ingest_server.port)
        try:
            raw.send(data)
            status, headers, answer = raw.response()
            closed = raw.closed_by_server()
        finally:
            raw.close()
        assert (status, headers["connection"], closed) == (400, "close", True), data
        assert json.loads(answer)["error"] == "bad_request"
    assert count_rows(ingest_services, agent.agent_id) == 0


def test_a_huge_request_head_is_refused(ingest_server):
    raw = Raw(ingest_server.port)
    try:
        raw.send(b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n")
        status, _, _ = raw.response()
    finally:
        raw.close()
    assert status == 431


def test_head_request_has_no_body(ingest_server):
    raw = Raw(ingest_server.port)
    try:
        raw.send(b"HEAD /api/v1/telemetry HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = raw.response(head_only=True)
        raw.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        after, _, _ = raw.response()
    finally:
        raw.close()
    assert status == 405
    assert int(headers["content-length"]) > 0  # the length of the body a GET would get
    assert after == 200  # nothing of a body was sent in between
