"""Wiring: ``IngestRuntime`` builds the writer, health probe and caches, and the HTTP front
end; ``make_app`` routes everything but telemetry."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from tornado.web import Application, RequestHandler

from argos_core.bootstrap import Services
from argos_core.tokens import TokenSigner
from ingest_server.auth import AgentAuthenticator
from ingest_server.context import IngestConfig, IngestContext
from ingest_server.handlers import (
    EnrollHandler,
    HealthHandler,
    MetricsHandler,
    NotFoundHandler,
)
from ingest_server.health import DatabaseHealth
from ingest_server.http1 import HttpFront
from ingest_server.metrics import IngestMetrics
from ingest_server.rate_limit import RateLimiter
from ingest_server.telemetry import TelemetryEndpoint
from ingest_server.writer import GroupCommitWriter

access_log = logging.getLogger("tornado.access")
TELEMETRY_PATH = "/api/v1/telemetry"
BLOCKING_THREADS = 4


def make_app(ctx: IngestContext) -> Application:
    """Every endpoint but telemetry, which the HTTP front end (``ingest_server.http1``)
    sends straight to its ``TelemetryEndpoint``."""
    args = {"ctx": ctx}
    return Application(
        [
            (r"/api/v1/enroll", EnrollHandler, args),
            (r"/healthz", HealthHandler, args),
            (r"/metrics", MetricsHandler, args),
        ],
        default_handler_class=NotFoundHandler,
        default_handler_args=args,
        log_function=_log_request,
    )


class IngestRuntime:
    """The long-lived parts of one server process. Create and start it inside the event loop."""

    def __init__(
        self, services: Services, signer: TokenSigner, config: IngestConfig | None = None
    ) -> None:
        config = config or IngestConfig()
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
        self.context = IngestContext(
            config=config,
            services=services,
            signer=signer,
            metrics=metrics,
            health=health,
            auth=AgentAuthenticator(
                signer, engine, executor, health=health, ttl_s=config.credentials_ttl_s
            ),
            limiter=RateLimiter(config.agent_rate, config.agent_burst),
            writer=GroupCommitWriter(
                engine,
                health,
                metrics,
                max_batch_rows=config.max_batch_rows,
                max_delay_s=config.max_delay_s,
                max_pending_rows=config.max_pending_rows,
            ),
            executor=executor,
        )

    def start(self, *, max_body_bytes: int) -> HttpFront:
        """Start the writer and the health probe; the HTTP front end to add sockets to."""
        self.context.writer.start()
        self.context.health.start()
        return HttpFront(
            make_app(self.context),
            TelemetryEndpoint(self.context),
            TELEMETRY_PATH,
            max_body_bytes=max_body_bytes,
        )

    async def stop(self) -> None:
        """Write everything accepted so far, then release threads (the caller closes sockets)."""
        await self.context.writer.drain_and_stop()
        await self.context.health.stop()
        self.context.executor.shutdown(wait=True)

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
