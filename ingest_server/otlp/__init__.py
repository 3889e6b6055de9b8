"""OTLP intake: OpenTelemetry SDKs and Collectors export host metrics to ``/v1/metrics``."""

from __future__ import annotations

from typing import Any

from ingest_server.context import IngestContext
from ingest_server.otlp.handler import MetricsExportHandler
from ingest_server.otlp.intake import OtlpIntake

METRICS_PATH = "/v1/metrics"


def default_handlers(ctx: IngestContext) -> list[tuple[str, type, dict[str, Any]]]:
    """The routes of this group, for ``make_app``."""
    return [(METRICS_PATH, MetricsExportHandler, {"ctx": ctx, "intake": OtlpIntake(ctx)})]
