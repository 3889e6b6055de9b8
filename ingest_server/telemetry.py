"""``POST /api/v1/telemetry``: the hot path, served without ``RequestHandler``.

Every agent report lands here, thousands per second, so this endpoint talks to Tornado's
HTTP connection directly (an ``HTTPMessageDelegate``), which costs about a third less CPU
per request than a ``RequestHandler``. The rules and the error shape are the same as for
every other endpoint: ``accept_telemetry`` holds the rules, ``ingest_server.errors`` the
answers.
"""

from __future__ import annotations

import asyncio
import logging
import time

from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
    responses,
)
from tornado.iostream import StreamClosedError

from ingest_server.bodies import BodyBuffer, decode_json
from ingest_server.context import IngestContext
from ingest_server.errors import ApiError, error_body, shutting_down, translate
from ingest_server.samples import InvalidBatch, parse_batch

log = logging.getLogger(__name__)

ACCEPTED = b'{"accepted":%d,"duplicates":%d,"report_interval_s":%d}'
JSON = "application/json; charset=utf-8"


async def accept_telemetry(ctx: IngestContext, headers: HTTPHeaders, body: BodyBuffer) -> bytes:
    """Authenticate, validate, wait for the commit; the 200 body, or an exception."""
    agent = await ctx.auth.authenticate(headers.get("Authorization"))
    payload = decode_json(headers, body)
    wait = ctx.limiter.retry_after(agent.agent_id)
    if wait:
        raise ApiError(429, "This agent is sending too often.", retry_after=wait)
    try:
        rows = parse_batch(payload, agent.agent_id, time.time())
    except InvalidBatch:
        samples = payload.get("samples") if isinstance(payload, dict) else None
        ctx.metrics.samples_rejected.inc(len(samples) if isinstance(samples, list) else 0)
        raise
    result = await ctx.writer.submit(agent.agent_id, rows, agent.token_epoch)
    return ACCEPTED % (result.accepted, result.duplicates, agent.report_interval_s)


class TelemetryEndpoint(HTTPServerConnectionDelegate):
    """Routing target: one ``_Exchange`` per request."""

    def __init__(self, ctx: IngestContext) -> None:
        self.ctx = ctx
        self._tasks: set[asyncio.Task] = set()

    def start_request(self, server_conn: object, request_conn: HTTPConnection) -> _Exchange:
        return _Exchange(self, request_conn)


class _Exchange(HTTPMessageDelegate):
    def __init__(self, endpoint: TelemetryEndpoint, connection: HTTPConnection) -> None:
        self._endpoint = endpoint
        self._ctx = endpoint.ctx
        self._connection = connection
        self._body = BodyBuffer(self._ctx.config.max_body_bytes)
        self._method = ""
        self._headers = HTTPHeaders()
        self._started = time.perf_counter()

    def headers_received(self, start_line: RequestStartLine, headers: HTTPHeaders) -> None:
        self._method = start_line.method
        self._headers = headers
        self._started = time.perf_counter()

    def data_received(self, chunk: bytes) -> None:
        self._body.add(chunk)

    def finish(self) -> None:
        task = asyncio.get_running_loop().create_task(self._respond())
        self._endpoint._tasks.add(task)
        task.add_done_callback(self._endpoint._tasks.discard)

    def on_connection_close(self) -> None:
        pass  # the samples may still be committed; the agent will resend and count duplicates

    async def _respond(self) -> None:
        ctx, cfg = self._ctx, self._ctx.config
        ctx.inflight += 1
        extra: dict[str, str] = {}
        try:
            if self._method != "POST":
                raise ApiError(405, "Method Not Allowed.")
            if ctx.stopping:
                raise shutting_down(cfg.busy_retry_after_s)
            status, body = 200, await accept_telemetry(ctx, self._headers, self._body)
        except Exception as exc:
            error = translate(
                exc, db_retry_after=cfg.db_retry_after_s, busy_retry_after=cfg.busy_retry_after_s
            )
            if error is None:
                log.exception("Unexpected error while accepting telemetry")
                error = ApiError(500, "Internal Server Error.")
            status, body = error.status_code, error_body(error)
            if error.retry_after is not None:
                extra["Retry-After"] = str(error.retry_after)
        finally:
            ctx.inflight -= 1
        headers = HTTPHeaders({"Content-Type": JSON, "Content-Length": str(len(body)), **extra})
        try:
            self._connection.write_headers(
                ResponseStartLine("HTTP/1.1", status, responses.get(status, "Unknown")),
                headers,
                body,
            )
            self._connection.finish()
        except StreamClosedError:
            pass
        ctx.metrics.count_request("telemetry", status, time.perf_counter() - self._started)
