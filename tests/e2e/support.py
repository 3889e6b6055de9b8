"""Helpers for end-to-end tests: an ingest server in a thread, an HTTP client, org set-up,
and a TCP proxy that can cut the server off from MariaDB."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.client
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from tornado.netutil import bind_sockets

from argos_core.bootstrap import Services
from argos_core.scope import Principal
from argos_core.tokens import TokenSigner
from ingest_server.app import IngestRuntime
from ingest_server.context import IngestConfig
from ingest_server.main import serve
from tests.factories import agent_row

SECRET = "test-secret-key-that-is-long-enough-0123456789"
ROOT = Principal("root", "superadmin", source="tests")
T = TypeVar("T")


class ServerThread:
    """The real ingest server (same ``serve`` as ``argos-ingest``) on 127.0.0.1, port 0."""

    def __init__(self, database_url: str, config: IngestConfig | None = None) -> None:
        self.database_url = database_url
        self.config = config or IngestConfig()
        self.signer = TokenSigner(SECRET)
        self.runtime: IngestRuntime | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._sockets = bind_sockets(0, "127.0.0.1")
        self.port = self._sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(20), "the ingest server did not start"
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        assert not self._thread.is_alive(), "the ingest server did not stop:\n" + thread_stacks()

    def call(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Await ``make()`` on the server's event loop; fails after ``timeout`` seconds."""
        assert self._loop is not None

        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def ready(runtime: IngestRuntime) -> None:
            self.runtime = runtime
            self._ready.set()

        await serve(self.database_url, self.signer, self._sockets, self.config, self._stop, ready)


def scrape(base_url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """``/metrics`` as Prometheus reads it: samples by name, each as (labels, value)."""
    text = request(base_url, "GET", "/metrics").body.decode()
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, []).append((s.labels, s.value))
    return found


def metric(samples: dict[str, list], name: str, **labels: str) -> float | None:
    """The value of the first sample called ``name`` that has ``labels``."""
    for have, value in samples.get(name, []):
        if all(have.get(k) == want for k, want in labels.items()):
            return value
    return None


def thread_stacks() -> str:
    """Where every thread of this process is, to say why something did not finish."""
    names = {t.ident: t.name for t in threading.enumerate()}
    return "\n".join(
        f"--- {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
    )


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def request(
    base_url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


def post_json(
    base_url: str,
    path: str,
    payload: Any,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    compress: bool = False,
) -> Reply:
    body = json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    if compress:
        body = gzip.compress(body)
        all_headers["Content-Encoding"] = "gzip"
    return request(base_url, "POST", path, body, all_headers)


@dataclass
class Branch:
    org_id: str
    key: str
    key_id: int
    services: Services
    agents: list[str] = field(default_factory=list)

    def inventory(self, machine_id: str | None = None, **extra: Any) -> dict[str, Any]:
        machine = machine_id or f"m-{uuid.uuid4().hex}"
        return {
            "branch_org_id": self.org_id,
            "enrollment_key": self.key,
            "hostname": f"host-{machine[-8:]}",
            "machine_id": machine,
            "os": "Linux 6.1",
            "agent_version": "1.0.0",
            **extra,
        }


def make_branch(services: Services, *, expires_in: timedelta | None = timedelta(days=1)) -> Branch:
    tag = uuid.uuid4().hex[:8]
    tenant = services.orgs.create_tenant(ROOT, f"Tenant {tag}")
    company = services.orgs.create_company(ROOT, tenant.org_id, f"Company {tag}")
    branch = services.orgs.create_branch(ROOT, company.org_id, f"Branch {tag}")
    key = services.enrollment.issue_key(ROOT, branch.org_id, expires_in=expires_in)
    return Branch(branch.org_id, key.key, key.key_id, services)


@dataclass
class EnrolledAgent:
    agent_uuid: str
    token: str
    agent_id: int


def enroll(server: ServerThread, branch: Branch, services: Services) -> EnrolledAgent:
    return enroll_http(server.url, branch, services)


def enroll_http(base_url: str, branch: Branch, services: Services) -> EnrolledAgent:
    reply = post_json(base_url, "/api/v1/enroll", branch.inventory())
    assert reply.status == 201, reply.body
    data = reply.json
    credentials = agent_row(services, data["agent_id"])
    return EnrolledAgent(data["agent_id"], data["token"], credentials.agent_id)


def sample(ts: int, **metrics: Any) -> dict[str, Any]:
    return {"ts": ts, "cpu_percent": 10.0, **metrics}


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` drops every connection and refuses
    new ones (as a stopped database would), ``stall()`` keeps every connection open but
    forwards nothing (a database host gone from the network), ``restore()`` lets traffic
    through again."""

    @classmethod
    def before_database(cls, database_url: str) -> tuple[TcpProxy, str]:
        """A proxy in front of a network database, and the database URL through it."""
        url = make_url(database_url)
        proxy = cls(url.host or "127.0.0.1", url.port or 3306)
        return proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        )

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = False
        self._closed = False
        self._flowing = threading.Event()
        self._flowing.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def stall(self) -> None:
        self._flowing.clear()

    def restore(self) -> None:
        with self._lock:
            self._cut = False
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._flowing.set()
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._cut:
                    _close(client)
                    continue
                if not self._flowing.is_set():
                    self._open.add(client)  # accepted, never answered
                    continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
