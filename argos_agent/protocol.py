"""The ingest protocol from the agent's side (PROTOCOL.md): enroll, send telemetry."""

from __future__ import annotations

import contextlib
import gzip
import json
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from argos_agent import __version__

GZIP_ABOVE_BYTES = 4096


@dataclass(frozen=True)
class Enrollment:
    agent_id: str
    token: str
    report_interval_s: int


@dataclass(frozen=True)
class SendResult:
    accepted: int
    duplicates: int
    report_interval_s: int


class ProtocolError(Exception):
    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Unauthorized(ProtocolError):
    """401: bad token (re-enroll) or refused enrollment (fatal)."""


class RetryLater(ProtocolError):
    """429, 503, other 5xx or a network error: keep the samples, try again later."""

    def __init__(self, message: str, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class Rejected(ProtocolError):
    """400/413/415: the server will never take this request as it is."""


class IngestClient:
    """One httpx connection pool; any number of agents (coroutines) may share it.

    Given several servers (Argos server hosts, or load balancers), it sends to one of them
    and moves to the next when that one cannot be reached, staying with whichever answers.
    """

    def __init__(
        self,
        servers: str | Sequence[str],
        *,
        timeout_s: float = 10.0,
        ca_file: str | None = None,
        max_connections: int = 4,
    ) -> None:
        urls = [servers] if isinstance(servers, str) else list(servers)
        if not urls:
            raise ValueError("at least one server is needed")
        self._servers = [url.rstrip("/") for url in urls]
        self._current = 0
        self._http = httpx.AsyncClient(
            verify=tls_context(ca_file),
            # Waiting for a free connection of the pool is not a failure of the server.
            timeout=httpx.Timeout(timeout_s, pool=None),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": f"argos-agent/{__version__}"},
            trust_env=False,
        )

    async def enroll(self, branch_org_id: str, enrollment_key: str, inventory: dict) -> Enrollment:
        body = {"branch_org_id": branch_org_id, "enrollment_key": enrollment_key, **inventory}
        data = await self._post("/api/v1/enroll", body, {})
        with _understood(data):
            return Enrollment(
                str(data["agent_id"]), str(data["token"]), int(data["report_interval_s"])
            )

    async def send(self, token: str, samples: list[dict[str, Any]]) -> SendResult:
        data = await self._post(
            "/api/v1/telemetry", {"samples": samples}, {"Authorization": f"Bearer {token}"}
        )
        with _understood(data):
            return SendResult(
                int(data["accepted"]), int(data["duplicates"]), int(data["report_interval_s"])
            )

    async def close(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, payload: dict, headers: dict[str, str]) -> dict:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **headers}
        if len(body) > GZIP_ABOVE_BYTES:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        failures = []
        for _ in self._servers:
            server = self._servers[self._current]
            try:
                response = await self._http.post(server + path, content=body, headers=headers)
            except httpx.RequestError as exc:
                failures.append(_unreachable(server, exc))
                self._current = (self._current + 1) % len(self._servers)
                continue
            return _answer(response)
        raise RetryLater("; ".join(failures))


def _unreachable(server: str, exc: httpx.RequestError) -> str:
    failure = _certificate_failure(exc)
    if failure is not None:
        return (
            f"the certificate of {server} cannot be verified: {failure}; "
            "give the CA that signed it with --ca-file"
        )
    detail = str(exc) or exc.__class__.__name__
    return f"cannot reach {server}: {detail}"


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Certificates checked against the system's trust store, or only ``ca_file``'s CAs.

    Raises ``OSError``/``ssl.SSLError`` when the CA file cannot be read.
    """
    return ssl.create_default_context(cafile=ca_file)


@contextlib.contextmanager
def _understood(data: dict) -> Iterator[None]:
    """A 200/201 whose body lacks what the protocol promises (a proxy's page, say) is retried."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise RetryLater(f"the server's answer was not understood: {str(data)[:80]}") from exc


def _certificate_failure(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _answer(response: httpx.Response) -> dict:
    try:
        data = json.loads(response.content) if response.content else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if response.status_code in (200, 201):
        return data
    message = str(data.get("message") or f"HTTP {response.status_code}")
    if response.status_code == 401:
        raise Unauthorized(message, 401)
    if response.status_code in (429, 503) or response.status_code >= 500:
        raise RetryLater(message, response.status_code, _retry_after(response.headers))
    raise Rejected(message, response.status_code)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None
