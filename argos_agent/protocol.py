"""The ingest protocol from the agent's side (PROTOCOL.md): enroll, send telemetry."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

from argos_agent.http_client import HttpClient, Response, TransportError

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
    def __init__(self, server_url: str, *, timeout_s: float = 10.0) -> None:
        self._http = HttpClient(server_url, timeout_s=timeout_s)

    async def enroll(self, branch_org_id: str, enrollment_key: str, inventory: dict) -> Enrollment:
        body = {"branch_org_id": branch_org_id, "enrollment_key": enrollment_key, **inventory}
        data = await self._post("/api/v1/enroll", body, {})
        return Enrollment(data["agent_id"], data["token"], int(data["report_interval_s"]))

    async def send(self, token: str, samples: list[dict[str, Any]]) -> SendResult:
        data = await self._post(
            "/api/v1/telemetry", {"samples": samples}, {"Authorization": f"Bearer {token}"}
        )
        return SendResult(
            int(data["accepted"]), int(data["duplicates"]), int(data["report_interval_s"])
        )

    async def close(self) -> None:
        await self._http.close()

    async def _post(self, path: str, payload: dict, headers: dict[str, str]) -> dict:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **headers}
        if len(body) > GZIP_ABOVE_BYTES:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        try:
            response = await self._http.request("POST", path, body, headers)
        except TransportError as exc:
            raise RetryLater(f"cannot reach the server: {exc}") from exc
        return _answer(response)


def _answer(response: Response) -> dict:
    try:
        data = json.loads(response.body) if response.body else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if response.status in (200, 201):
        return data
    message = str(data.get("message") or f"HTTP {response.status}")
    if response.status == 401:
        raise Unauthorized(message, 401)
    if response.status in (429, 503) or response.status >= 500:
        raise RetryLater(message, response.status, _retry_after(response.headers))
    raise Rejected(message, response.status)


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None
