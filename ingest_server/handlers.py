"""HTTP handlers: parse, call the service or the writer, write JSON. Errors come from one place."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import zlib
from typing import Any

from sqlalchemy.exc import OperationalError
from tornado.web import RequestHandler, stream_request_body

from argos_core.errors import AuthenticationFailed
from argos_core.services.agent_inventory import AgentInventory
from argos_core.services.dto import EnrollResult
from ingest_server.context import IngestContext
from ingest_server.errors import CODES, ApiError, translate
from ingest_server.samples import InvalidBatch, parse_batch

log = logging.getLogger(__name__)

ACCEPTED = b'{"accepted":%d,"duplicates":%d,"report_interval_s":%d}'
ENROLL_ATTEMPTS = 8
ENROLL_REFUSED = "Enrollment refused: unknown branch or invalid enrollment key."


class JsonHandler(RequestHandler):
    route = "other"

    def initialize(self, ctx: IngestContext) -> None:
        self.ctx = ctx

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def write_json(self, status: int, payload: dict[str, Any]) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload, separators=(",", ":")))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            code, message, details = exc.code, exc.message, exc.details
            if exc.retry_after is not None:
                self.set_header("Retry-After", str(exc.retry_after))
        else:
            code, message, details = CODES.get(status_code, "error"), f"{self._reason}.", []
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": code, "message": message, "details": details}))

    def on_finish(self) -> None:
        self.ctx.metrics.count_request(self.route, self.get_status())


@stream_request_body
class JsonPostHandler(JsonHandler):
    """Reads a JSON body (optionally gzip-compressed) of at most ``max_body_bytes``.

    The body is streamed so an oversized one is counted and dropped rather than held, and
    the client still gets a proper ``413`` on a connection that stays usable.
    """

    def prepare(self) -> None:
        self._chunks: list[bytes] = []
        self._received = 0

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self.ctx.config.max_body_bytes:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    async def post(self) -> None:
        cfg = self.ctx.config
        self.ctx.inflight += 1
        try:
            await self.handle()
        except Exception as exc:
            error = translate(
                exc, db_retry_after=cfg.db_retry_after_s, busy_retry_after=cfg.busy_retry_after_s
            )
            if error is None:
                raise
            raise error from None
        finally:
            self.ctx.inflight -= 1

    async def handle(self) -> None:
        raise NotImplementedError

    def json_body(self) -> Any:
        media_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise ApiError(415, "Send the body as application/json.")
        limit = self.ctx.config.max_body_bytes
        if self._received > limit:
            raise ApiError(413, f"The body may be at most {limit} bytes.")
        body = b"".join(self._chunks)
        encoding = self.request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding == "gzip":
            body = _gunzip(body, limit)
        elif encoding != "identity":
            raise ApiError(415, "Only gzip content encoding is supported.")
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise ApiError(400, "The body is not valid JSON.", code="invalid_json") from exc


class EnrollHandler(JsonPostHandler):
    route = "enroll"

    async def handle(self) -> None:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a JSON object.", code="invalid_body")
        branch, key = body.get("branch_org_id"), body.get("enrollment_key")
        if not isinstance(branch, str) or not isinstance(key, str):
            raise ApiError(
                400, "'branch_org_id' and 'enrollment_key' must be strings.", code="invalid_body"
            )
        inventory = AgentInventory.parse(body)
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self.ctx.executor, self._enroll, branch, key, inventory
            )
        except AuthenticationFailed:
            raise ApiError(401, ENROLL_REFUSED) from None
        token = self.ctx.signer.issue(result.agent_uuid)
        self.write_json(
            201 if result.created else 200,
            {
                "agent_id": result.agent_uuid,
                "token": token,
                "report_interval_s": result.report_interval_s,
            },
        )

    def _enroll(self, branch: str, key: str, inventory: AgentInventory) -> EnrollResult:
        """Runs in a worker thread. Retries SQLite's "database is locked": an enrollment that
        read before the writer committed cannot upgrade its lock and must start over."""
        source = f"ingest:{self.request.remote_ip}"
        enroll = self.ctx.services.enrollment.enroll
        for attempt in range(1, ENROLL_ATTEMPTS):
            try:
                return enroll(branch, key, inventory, source=source)
            except OperationalError as exc:
                if "locked" not in str(exc.orig):
                    raise
                time.sleep(0.02 * attempt)
        return enroll(branch, key, inventory, source=source)


class TelemetryHandler(JsonPostHandler):
    route = "telemetry"

    async def handle(self) -> None:
        agent = await self.ctx.auth.authenticate(self.request.headers.get("Authorization"))
        body = self.json_body()
        wait = self.ctx.limiter.retry_after(agent.agent_id)
        if wait:
            raise ApiError(429, "This agent is sending too often.", retry_after=wait)
        try:
            rows = parse_batch(body, agent.agent_id, time.time())
        except InvalidBatch:
            samples = body.get("samples") if isinstance(body, dict) else None
            self.ctx.metrics.samples_rejected.inc(len(samples) if isinstance(samples, list) else 0)
            raise
        result = await self.ctx.writer.submit(agent.agent_id, rows)
        self.finish(ACCEPTED % (result.accepted, result.duplicates, agent.report_interval_s))


class HealthHandler(JsonHandler):
    route = "healthz"

    async def get(self) -> None:
        ok = self.ctx.health.available or await self.ctx.health.probe()
        self.write_json(
            200 if ok else 503,
            {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unavailable"},
        )


class MetricsHandler(JsonHandler):
    route = "metrics"

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.finish(self.ctx.metrics.exposition())


class NotFoundHandler(JsonHandler):
    def prepare(self) -> None:
        raise ApiError(404, "No such endpoint.")


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, "The gzip body is corrupt.", code="invalid_encoding") from exc
    if len(data) > limit:
        raise ApiError(413, f"The decompressed body may be at most {limit} bytes.")
    if not inflater.eof:
        raise ApiError(400, "The gzip body is truncated.", code="invalid_encoding")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")
