"""The agent's HTTP client (httpx) against a real socket server that answers with raw, sometimes
odd, HTTP/1.1: bodies without Content-Length, a malformed Content-Length, Retry-After."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from argos_agent.protocol import IngestClient, Rejected, RetryLater, Unauthorized


class CannedServer(socketserver.ThreadingTCPServer):
    """Reads one request per connection, answers ``reply`` verbatim and closes."""

    daemon_threads = True

    def __init__(self, reply: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply = reply
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.StreamRequestHandler):
    server: CannedServer

    def handle(self) -> None:
        self.rfile.readline()
        headers: dict[str, str] = {}
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.rfile.read(int(headers.get("content-length", "0")))
        self.server.requests.append((headers, body))
        self.wfile.write(self.server.reply)


@pytest.fixture
def canned() -> Iterator[Callable[[bytes], CannedServer]]:
    servers: list[CannedServer] = []

    def start(reply: bytes) -> CannedServer:
        server = CannedServer(reply)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def reply(status: str, payload: dict, *headers: str) -> bytes:
    body = json.dumps(payload).encode()
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def call(url: str, action):
    async def go():
        client = IngestClient(url, timeout_s=10)
        try:
            return await action(client)
        finally:
            await client.close()

    return asyncio.run(go())


def enroll(client: IngestClient):
    return client.enroll("ABCDE", "key", {"hostname": "h", "machine_id": "m"})


def test_a_body_without_content_length_is_read_to_the_end(canned):
    body = json.dumps({"agent_id": "a-1", "token": "t" * 300_000, "report_interval_s": 15}).encode()
    server = canned(b"HTTP/1.1 201 Created\r\nConnection: close\r\n\r\n" + body)
    enrollment = call(server.url, enroll)
    assert (enrollment.agent_id, len(enrollment.token), enrollment.report_interval_s) == (
        "a-1",
        300_000,
        15,
    )


def test_a_malformed_content_length_is_a_retryable_failure_not_a_crash(canned):
    server = canned(b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n{}")
    with pytest.raises(RetryLater, match="cannot reach"):
        call(server.url, lambda c: c.send("tok", [{"ts": 1, "cpu_percent": 1.0}]))


def test_retry_after_comes_back_with_a_503(canned):
    error = {"error": "overloaded", "message": "Busy.", "details": []}
    server = canned(reply("503 Service Unavailable", error, "Retry-After: 7"))
    with pytest.raises(RetryLater) as caught:
        call(server.url, lambda c: c.send("tok", [{"ts": 1, "cpu_percent": 1.0}]))
    assert (caught.value.status, caught.value.retry_after, str(caught.value)) == (503, 7.0, "Busy.")


@pytest.mark.parametrize(("status", "error"), [(401, Unauthorized), (400, Rejected)])
def test_refusals_carry_the_servers_message(canned, status, error):
    server = canned(reply(f"{status} X", {"error": "x", "message": "No, because.", "details": []}))
    with pytest.raises(error, match="No, because"):
        call(server.url, enroll)


def test_large_batches_are_gzipped_and_carry_the_token(canned):
    server = canned(reply("200 OK", {"accepted": 200, "duplicates": 0, "report_interval_s": 30}))
    samples = [{"ts": 1_790_000_000 + i, "cpu_percent": 12.5} for i in range(200)]
    result = call(server.url, lambda c: c.send("tok", samples))
    headers, body = server.requests[0]
    assert headers["content-encoding"] == "gzip"
    assert headers["authorization"] == "Bearer tok"
    assert json.loads(gzip.decompress(body)) == {"samples": samples}
    assert result.accepted == 200


def test_an_unreachable_server_is_a_retryable_failure():
    server = CannedServer(b"")
    url = server.url
    server.server_close()
    with pytest.raises(RetryLater, match=re.escape(f"cannot reach {url}")):
        call(url, enroll)


def test_a_success_without_the_promised_answer_is_retried_not_a_crash(canned):
    page = b"<html>captive portal</html>"
    server = canned(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(page), page))
    with pytest.raises(RetryLater, match="the server's answer was not understood"):
        call(server.url, enroll)
