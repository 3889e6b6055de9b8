"""A resource's metrics as ``MetricMapper.map`` takes them (``metrics_view.py``)."""

from __future__ import annotations

from google.protobuf.message import Message
from opentelemetry.proto.metrics.v1.metrics_pb2 import ResourceMetrics

from ingest_server.otlp.metrics_view import ResourceMetricsView


def view(resource: ResourceMetrics) -> Message:
    return ResourceMetricsView.FromString(resource.SerializeToString())
