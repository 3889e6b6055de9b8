"""Wiring: ``IngestRuntime`` builds the writer, health probe and caches; ``make_app`` routes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.web import Application, RequestHandler

from argos_core.bootstrap import Services
from argos_core.settings import StatusPolicy
from argos_core.tokens import TokenSigner
from ingest_server.auth import AgentAuthenticator
from ingest_server.connections import refuse_oversized_body
from ingest_server.console_api import console_routes
from ingest_server.context import HARD_BODY_CAP, IngestConfig, IngestContext, Limiters
from ingest_server.enroll_throttle import EnrollmentThrottle
from ingest_server.handlers import (
    EnrollHandler,
    HealthHandler,
    MetricsHandler,
    NotFoundHandler,
)
from ingest_server.health import DatabaseHealth
from ingest_server.jobs.alert_absence import absence_job
from ingest_server.jobs.alert_delivery import delivery_job
from ingest_server.jobs.alert_evaluation import ThresholdEvaluationJob
from ingest_server.jobs.alert_senders import SmtpSettings
from ingest_server.jobs.housekeeping import HousekeepingJob
from ingest_server.metrics import IngestMetrics
from ingest_server.otlp import default_handlers as otlp_handlers
from ingest_server.telemetry import TelemetryEndpoint
from ingest_server.writer import GroupCommitWriter

access_log = logging.getLogger("tornado.access")
TELEMETRY_PATH = "/api/v1/telemetry"
BLOCKING_THREADS = 4


def make_app(ctx: IngestContext) -> Application:
    args = {"ctx": ctx}
    telemetry = TelemetryEndpoint(ctx)
    return _IngestApplication(
        telemetry,
        [
            (r"/api/v1/enroll", EnrollHandler, args),
            (TELEMETRY_PATH, telemetry),
            (r"/healthz", HealthHandler, args),
            (r"/metrics", MetricsHandler, args),
            *console_routes(ctx),
            *otlp_handlers(ctx),
        ],
        default_handler_class=NotFoundHandler,
        default_handler_args=args,
        log_function=_log_request,
    )


class _IngestApplication(Application):
    """Sends telemetry requests straight to their endpoint.

    Tornado's routing builds an ``HTTPServerRequest`` and tries each rule's regex for every
    request; for the telemetry path, thousands of times a second, a string comparison does.
    Every other path (and any request whose start line is unusual) is routed as usual.
    """

    def __init__(self, telemetry: TelemetryEndpoint, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._telemetry = telemetry

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        return _Dispatch(self, server_conn, request_conn)


class _Dispatch(HTTPMessageDelegate):
    def __init__(
        self, app: _IngestApplication, server_conn: object, request_conn: HTTPConnection
    ) -> None:
        self._app = app
        self._server_conn = server_conn
        self._request_conn = request_conn
        self._delegate: HTTPMessageDelegate | None = None
        self._received = 0

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        if _declared_length(headers) > HARD_BODY_CAP:
            refuse_oversized_body(self._request_conn)
            return None
        path = getattr(start_line, "path", "").partition("?")[0]
        if path == TELEMETRY_PATH:
            delegate = self._app._telemetry.start_request(self._server_conn, self._request_conn)
        else:
            delegate = Application.start_request(self._app, self._server_conn, self._request_conn)
        self._delegate = delegate
        return delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self._delegate is None:
            return None  # refused: the connection closes once the 413 is sent
        self._received += len(chunk)
        if self._received > HARD_BODY_CAP:  # chunked, so no length was declared
            self._delegate.on_connection_close()
            self._delegate = None
            refuse_oversized_body(self._request_conn)
            return None
        return self._delegate.data_received(chunk)

    def finish(self) -> None:
        if self._delegate is not None:
            self._delegate.finish()

    def on_connection_close(self) -> None:
        if self._delegate is not None:
            self._delegate.on_connection_close()


def _declared_length(headers: HTTPHeaders) -> int:
    """The Content-Length, 0 if none (or malformed: Tornado refuses that on its own)."""
    value = headers.get("Content-Length", "0").partition(",")[0].strip()
    return int(value) if value.isdigit() else 0


class IngestRuntime:
    """The long-lived parts of one server process. Create and start it inside the event loop."""

    def __init__(
        self,
        services: Services,
        signer: TokenSigner,
        config: IngestConfig | None = None,
        limiters: Limiters | None = None,
    ) -> None:
        config = config or IngestConfig()
        limiters = limiters or Limiters.of(config)
        engine = services.engine
        metrics = IngestMetrics()
        executor = ThreadPoolExecutor(BLOCKING_THREADS, thread_name_prefix="argos-ingest")
        health = DatabaseHealth(
            engine,
            executor,
            metrics,
            probe_interval_s=config.health_probe_interval_s,
            retry_interval_s=config.health_retry_interval_s,
        )
        self.alerts = ThresholdEvaluationJob(
            services.session_factory, interval_s=config.alert_evaluate_interval_s
        )
        self.context = IngestContext(
            config=config,
            services=services,
            signer=signer,
            metrics=metrics,
            health=health,
            auth=AgentAuthenticator(
                signer, engine, executor, health=health, ttl_s=config.credentials_ttl_s
            ),
            limiter=limiters.agents,
            enroll_throttle=EnrollmentThrottle(
                limiters.enroll_failures, services.enrollment, executor
            ),
            writer=GroupCommitWriter(
                engine,
                health,
                metrics,
                max_batch_rows=config.max_batch_rows,
                max_delay_s=config.max_delay_s,
                max_pending_rows=config.max_pending_rows,
                on_commit=self.alerts.offer,
            ),
            executor=executor,
        )
        self.housekeeping = HousekeepingJob(
            engine,
            interval_s=config.housekeeping_interval_s,
            retention=config.retention,
            sleep_coef=config.housekeeping_sleep_coef,
        )
        group_window = timedelta(seconds=config.alert_group_window_s)
        self.absence = absence_job(
            engine,
            services.session_factory,
            StatusPolicy(),
            interval_s=config.alert_absence_interval_s,
            hold=group_window,
        )
        renotify = config.alert_renotify_after_s
        self.delivery = delivery_job(
            engine,
            services.session_factory,
            interval_s=config.alert_delivery_interval_s,
            renotify_after=timedelta(seconds=renotify) if renotify > 0 else None,
            smtp=SmtpSettings.from_env(),
            group_window=group_window,
        )

    def start(self) -> Application:
        self.context.writer.start()
        self.context.health.start()
        self.alerts.start()
        self.housekeeping.start()
        self.absence.start()
        self.delivery.start()
        return make_app(self.context)

    async def stop(self) -> None:
        """Write everything accepted so far, then release threads (the caller closes sockets).

        From here on, requests still arriving on open connections get a 503 (never a 500
        from a thread pool that is shutting down)."""
        if self.context.stopping:
            return
        self.context.stopping = True
        await asyncio.gather(self.housekeeping.stop(), self.absence.stop(), self.delivery.stop())
        await self.context.writer.drain_and_stop()
        await self.alerts.stop()
        await self.context.health.stop()
        # Requests may still be finishing on these threads: wait for them off the event loop.
        await asyncio.to_thread(self.context.executor.shutdown, wait=True)

    async def wait_idle(self, timeout_s: float) -> None:
        """Wait (bounded) until no request is between reading its body and its answer."""
        deadline = time.monotonic() + timeout_s
        while self.context.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


def _log_request(handler: RequestHandler) -> None:
    if handler.get_status() >= 500 and handler.get_status() != 503:
        access_log.error(
            "%d %s %.1fms",
            handler.get_status(),
            handler._request_summary(),
            1000 * handler.request.request_time(),
        )
