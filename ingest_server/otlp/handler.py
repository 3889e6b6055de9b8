"""``POST /v1/metrics``: the handler only translates between HTTP and ``OtlpIntake``."""

from __future__ import annotations

from typing import Any

from ingest_server.context import IngestContext
from ingest_server.errors import ApiError
from ingest_server.handlers import JsonPostHandler
from ingest_server.otlp.encoding import Encoding
from ingest_server.otlp.intake import OtlpIntake


class MetricsExportHandler(JsonPostHandler):
    route = "otlp"

    def initialize(self, ctx: IngestContext, intake: OtlpIntake) -> None:  # type: ignore[override]
        super().initialize(ctx)
        self.intake = intake

    async def handle(self) -> None:
        encoding, response = await self.intake.export(
            self.request.headers, self._body, self.request.remote_ip or ""
        )
        self.set_header("Content-Type", encoding.value)
        self.finish(encoding.encode(response))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A ``google.rpc.Status`` in the request's encoding (JSON for anything else)."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if not isinstance(exc, ApiError):
            exc = ApiError(status_code, f"{self._reason}.")
        encoding = Encoding.of(self.request.headers) or Encoding.JSON
        if exc.retry_after is not None:
            self.set_header("Retry-After", str(exc.retry_after))
        self.set_header("Content-Type", encoding.value)
        self.finish(encoding.error(exc))
