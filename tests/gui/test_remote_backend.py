"""The remote backend's own rules: TLS verification, token refresh, session end, errors.

TLS runs against a real HTTPS server with trustme certificates. Token and error handling
run against the console API's rules as CONSOLE_API.md states them, through httpx's
``MockTransport``; every view over a real server is covered by the GUI tests' remote backend.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme

from argos_core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    DuplicateName,
    NotFound,
    ScopeViolation,
    SessionEnded,
    ValidationError,
)
from argos_core.services import wire
from argos_core.services.dto import OrgNode, Page, StatusCounts
from argos_desktop.backend.remote import ServerUnavailable, connect_remote

ME = {
    "username": "alice",
    "role": "admin",
    "scope_kind": "company",
    "scope_org_id": "K7QX2",
    "scope_name": "Alpha Corp",
    "tenant_org_id": "T4NT1",
}
NODE = OrgNode("company", "K7QX2", "Alpha Corp", "T4NT1", 2, StatusCounts(online=3),
               datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip


def error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": message, "details": []})


class ContractServer:
    """The console API's token rules: access tokens expire, refresh tokens rotate, a spent
    refresh token presented again ends the session."""

    def __init__(self, expires_in: int = 900) -> None:
        self.expires_in = expires_in
        self.lock = threading.Lock()
        self.generation = 0
        self.live_access: set[str] = set()
        self.refresh_token = ""
        self.spent: set[str] = set()
        self.ended = False
        self.refreshes = 0
        self.requests: list[httpx.Request] = []
        self.answers: dict[str, httpx.Response] = {}

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.live_access.clear()

    def _pair(self) -> httpx.Response:
        self.generation += 1
        access, refresh = f"access-{self.generation}", f"refresh-{self.generation}"
        self.live_access.add(access)
        self.refresh_token = refresh
        body = {"access_token": access, "refresh_token": refresh,
                "expires_in": self.expires_in, "user": ME}  # fmt: skip
        return httpx.Response(200, json=body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            path = request.url.path.removeprefix("/api/v1")
            if path == "/auth/login":
                return self._pair()
            if path == "/auth/refresh":
                self.refreshes += 1
                token = json.loads(request.content)["refresh_token"]
                if token in self.spent or token != self.refresh_token or self.ended:
                    self.ended = True
                    return error(401, "session_ended", "This session has ended.")
                self.spent.add(token)
                return self._pair()
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if self.ended:
                return error(401, "session_ended", "You were signed out.")
            if bearer not in self.live_access:
                return error(401, "unauthorized", "The access token has expired.")
            if path in self.answers:
                answer = self.answers[path]
                return answer.pop(0) if isinstance(answer, list) else answer
            if path == "/orgs":
                page = wire.encode(Page([NODE], 1, 0))
                if request.headers.get("If-None-Match") == '"v1"':
                    return httpx.Response(304, headers={"ETag": '"v1"'})
                return httpx.Response(200, json=page, headers={"ETag": '"v1"'})
            return error(404, "not_found", "Nothing here.")


@pytest.fixture
def server() -> ContractServer:
    return ContractServer()


def sign_in(server: ContractServer, clock=time.monotonic):
    return connect_remote(
        "https://argos.example:8443",
        "alice",
        "pw",
        transport=httpx.MockTransport(server),
        clock=clock,
    )


def test_sign_in_gives_the_identity_the_server_derived(server):
    backend, identity = sign_in(server)
    assert (identity.username, identity.role, identity.scope_org_id) == ("alice", "admin", "K7QX2")
    assert identity.scope_label == "company Alpha Corp (K7QX2)"
    assert backend.list_children() == Page([NODE], 1, 0)


def test_an_expired_access_token_is_refreshed_once_for_many_threads(server):
    backend, _ = sign_in(server)
    server.expire_access_tokens()
    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(lambda _n: backend.list_children(), range(16)))
    assert all(p.items == [NODE] for p in pages)
    assert server.refreshes == 1, "a second refresh would present a spent token"
    assert not server.ended


def test_a_token_about_to_expire_is_refreshed_before_it_is_used(server):
    now = [1000.0]
    backend, _ = sign_in(server, lambda: now[0])
    now[0] += server.expires_in  # the access token would now be refused
    server.requests.clear()
    backend.list_children()
    paths = [r.url.path for r in server.requests]
    assert paths[0] == "/api/v1/auth/refresh" and len(paths) == 2
    assert server.refreshes == 1


def test_a_session_ended_on_the_server_ends_every_later_call_at_once(server):
    backend, _ = sign_in(server)
    server.ended = True
    with pytest.raises(SessionEnded, match=r"You were signed out\."):
        backend.list_children()
    server.requests.clear()
    with pytest.raises(SessionEnded):
        backend.get_node("K7QX2")
    assert server.requests == []
    assert isinstance(SessionEnded("x"), AuthenticationFailed)


def test_a_refused_refresh_ends_the_session(server):
    backend, _ = sign_in(server)
    server.refresh_token = "rotated-by-someone-else"
    server.expire_access_tokens()
    with pytest.raises(SessionEnded, match=r"This session has ended\."):
        backend.list_children()


def test_unchanged_answers_are_not_sent_again(server):
    backend, _ = sign_in(server)
    first = backend.list_children()
    server.requests.clear()
    assert backend.list_children() == first
    assert server.requests[0].headers["If-None-Match"] == '"v1"'


@pytest.mark.parametrize(
    ("path", "answer", "read"),
    [
        ("/alerts", Page([], 0, 0), lambda backend: backend.list_alerts()),
        ("/maintenance-windows", [], lambda backend: backend.list_maintenance()),
    ],
)
def test_the_alert_refresh_asks_with_the_etag_it_was_given(server, path, answer, read):
    backend, _ = sign_in(server)
    server.answers[path] = httpx.Response(200, json=wire.encode(answer), headers={"ETag": '"a1"'})
    first = read(backend)
    server.requests.clear()
    server.answers[path] = httpx.Response(304, headers={"ETag": '"a1"'})
    assert read(backend) == first
    assert server.requests[0].headers["If-None-Match"] == '"a1"'


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "bad_request", ValidationError),
        (403, "forbidden", ScopeViolation),
        (404, "not_found", NotFound),
        (409, "duplicate", DuplicateName),
        (409, "conflict", Conflict),
        (503, "database_unavailable", DatabaseUnavailable),
        (500, "internal_error", ServerUnavailable),
    ],
)
def test_error_answers_become_the_domain_exceptions_views_handle(server, status, code, expected):
    backend, _ = sign_in(server)
    server.answers["/orgs/K7QX2"] = error(status, code, "One sentence for people.")
    with pytest.raises(expected, match=r"One sentence for people\.") as raised:
        backend.get_node("K7QX2")
    if expected is Conflict:
        assert not isinstance(raised.value, DuplicateName)


def test_a_read_the_server_asks_to_retry_is_retried_once_writes_are_not(server):
    backend, _ = sign_in(server)
    busy = httpx.Response(
        503,
        json={"error": "database_unavailable", "message": "Retry later.", "details": []},
        headers={"Retry-After": "0"},
    )
    server.answers["/orgs/K7QX2"] = [busy, httpx.Response(200, json=wire.encode(NODE))]
    assert backend.get_node("K7QX2") == NODE
    assert len(asked(server, "/orgs/K7QX2")) == 2
    server.requests.clear()
    server.answers["/orgs/K7QX2"] = busy
    with pytest.raises(DatabaseUnavailable, match="Retry later"):
        backend.rename_org("K7QX2", "New name")
    assert len(asked(server, "/orgs/K7QX2")) == 1, "a write is never sent twice"


def asked(server: ContractServer, path: str) -> list[httpx.Request]:
    return [r for r in server.requests if r.url.path == "/api/v1" + path]


def test_an_answer_that_does_not_fit_says_so(server):
    backend, _ = sign_in(server)
    server.answers["/orgs/K7QX2"] = httpx.Response(200, json={"kind": "planet"})
    with pytest.raises(ServerUnavailable, match="could not be read"):
        backend.get_node("K7QX2")


def test_not_a_server_address():
    with pytest.raises(ConfigurationError, match="not a server address"):
        connect_remote("https://", "alice", "pw")


def test_an_unreachable_server_is_one_sentence():
    with pytest.raises(ServerUnavailable, match="cannot be reached"):
        connect_remote("http://127.0.0.1:9", "alice", "pw")


# --- TLS against a real HTTPS server ---------------------------------------------------------


class _RefusesEveryone(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.dumps(
            {"error": "unauthorized", "message": "Wrong username or password.", "details": []}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path):
    authority = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("localhost").configure_cert(context)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _RefusesEveryone)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.handle_error = lambda *_a: None  # the refused handshakes are the point
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    yield f"https://localhost:{httpd.server_address[1]}", str(ca_file)
    httpd.shutdown()
    httpd.server_close()


def test_a_certificate_from_an_unknown_authority_is_refused_in_one_sentence(tls_server):
    url, _ca = tls_server
    with pytest.raises(ServerUnavailable) as refused:
        connect_remote(url, "alice", "pw")
    message = str(refused.value)
    assert "could not be verified" in message and "CA file" in message
    assert message.count(".") <= 2 and "\n" not in message


def test_the_profiles_ca_file_makes_the_certificate_trusted(tls_server):
    url, ca_file = tls_server
    with pytest.raises(AuthenticationFailed, match=r"Wrong username or password\."):
        connect_remote(url, "alice", "pw", ca_file=ca_file)


def test_an_unreadable_ca_file_says_so(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot be read"):
        connect_remote("https://localhost:1", "alice", "pw", ca_file=str(tmp_path / "nope.pem"))
