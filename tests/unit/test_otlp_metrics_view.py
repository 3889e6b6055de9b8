"""The view the mapping reads is the official message with each number data point's
attributes as their serialized ``KeyValue`` bytes, and nothing else changed."""

from __future__ import annotations

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from ingest_server.otlp.metrics_view import ExportMetricsView


def export() -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.add(key="host.name").value.string_value = "web-1"
    metrics = resource.scope_metrics.add().metrics
    point = metrics.add(name="system.network.io").sum.data_points.add(
        time_unix_nano=5 * 10**9, start_time_unix_nano=10**9, as_int=42, flags=1
    )
    point.attributes.add(key="device").value.string_value = "eth0"
    point.attributes.add(key="direction").value.int_value = 7
    histogram = metrics.add(name="http.duration").histogram.data_points.add(count=3)
    histogram.attributes.add(key="route").value.string_value = "/"
    return request


def test_a_number_point_s_attributes_are_their_bytes_and_the_rest_is_as_sent():
    request = export()
    view = ExportMetricsView.FromString(request.SerializeToString())
    sent = request.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0]
    seen = view.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0]
    assert seen.attributes[:] == [kv.SerializeToString() for kv in sent.attributes]
    assert (seen.time_unix_nano, seen.start_time_unix_nano, seen.as_int, seen.flags) == (
        5 * 10**9,
        10**9,
        42,
        1,
    )
    assert view.SerializeToString() == request.SerializeToString()
