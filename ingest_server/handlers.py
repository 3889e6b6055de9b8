"""HTTP handlers: parse, call the service, write JSON. Errors come from one place.

The telemetry endpoint, the hot path, lives in ``ingest_server.telemetry``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado.web import RequestHandler, stream_request_body

from argos_core.errors import AuthenticationFailed
from argos_core.services.agent_inventory import AgentInventory
from argos_core.services.dto import EnrollResult
from ingest_server.bodies import BodyBuffer, decode_json
from ingest_server.context import IngestContext
from ingest_server.errors import ApiError, error_body, shutting_down, translate

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
        if not isinstance(exc, ApiError):
            exc = ApiError(status_code, f"{self._reason}.")
        if exc.retry_after is not None:
            self.set_header("Retry-After", str(exc.retry_after))
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(error_body(exc))

    def on_finish(self) -> None:
        self.ctx.metrics.count_request(self.route, self.get_status(), self.request.request_time())


@stream_request_body
class JsonPostHandler(JsonHandler):
    """Streams its body into a ``BodyBuffer`` (bounded; see ``ingest_server.bodies``)."""

    def prepare(self) -> None:
        self._body = BodyBuffer(self.ctx.config.max_body_bytes)

    def data_received(self, chunk: bytes) -> None:
        self._body.add(chunk)

    async def post(self) -> None:
        cfg = self.ctx.config
        self.ctx.inflight += 1
        try:
            if self.ctx.stopping:
                raise shutting_down(cfg.busy_retry_after_s)
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
        return decode_json(self.request.headers, self._body)


class EnrollHandler(JsonPostHandler):
    route = "enroll"

    async def handle(self) -> None:
        address = self.request.remote_ip or ""
        self.ctx.enroll_throttle.check(address)
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
            await self.ctx.enroll_throttle.failed(address, "ingest")
            raise ApiError(401, ENROLL_REFUSED) from None
        token = self.ctx.signer.issue(result.agent_uuid, epoch=result.token_epoch)
        self.write_json(
            201 if result.created else 200,
            {
                "agent_id": result.agent_uuid,
                "token": token,
                "report_interval_s": result.report_interval_s,
            },
        )

    def _enroll(self, branch: str, key: str, inventory: AgentInventory) -> EnrollResult:
        """Runs in a worker thread (the service retries conflicts and lost connections)."""
        source = f"ingest:{self.request.remote_ip}"
        return self.ctx.services.enrollment.enroll(branch, key, inventory, source=source)


class HealthHandler(JsonHandler):
    route = "healthz"

    async def get(self) -> None:
        if self.ctx.stopping:
            self.write_json(503, {"status": "stopping", "database": "unavailable"})
            return
        ok = self.ctx.health.available or await self.ctx.health.probe()
        self.write_json(
            200 if ok else 503,
            {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unavailable"},
        )

    async def head(self) -> None:
        await self.get()


class MetricsHandler(JsonHandler):
    route = "metrics"

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.finish(self.ctx.metrics.exposition())

    def head(self) -> None:
        self.get()


class NotFoundHandler(JsonHandler):
    def prepare(self) -> None:
        raise ApiError(404, "No such endpoint.")
