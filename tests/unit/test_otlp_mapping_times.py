"""A data point's second is its own time's, however many points share that time: points in
the same second fill one sample, and each point at a time that cannot be stored is counted."""

from __future__ import annotations

from opentelemetry.proto.metrics.v1.metrics_pb2 import ResourceMetrics

from ingest_server.otlp.mapping import MetricMapper
from ingest_server.samples import MAX_FUTURE_S
from tests.otlp_view import view

T0 = 1_790_000_000
S = 10**9
LATE = f"a time before 1970 or more than {MAX_FUTURE_S} s ahead"


def levels(*points: tuple[str, float, int]) -> ResourceMetrics:
    """One gauge point per ``(metric, value, time_unix_nano)``, each metric in its own
    scope so that a metric may come more than once."""
    resource = ResourceMetrics()
    for name, value, time_ns in points:
        metric = resource.scope_metrics.add().metrics.add(name=name)
        metric.gauge.data_points.add(time_unix_nano=time_ns, as_double=value)
    return resource


def test_points_in_one_second_fill_one_sample_whatever_their_nanoseconds():
    resource = levels(
        ("system.cpu.utilization", 0.25, T0 * S + 999_999_999),
        ("system.memory.utilization", 0.5, T0 * S),
        ("system.cpu.load_average.1m", 1.5, T0 * S + 1),
        ("system.cpu.utilization", 0.75, (T0 + 1) * S),
    )
    mapped = MetricMapper().map("host", view(resource), T0 + 60)
    assert mapped.rows(7) == [
        (7, T0, 25.0, 50.0, None, None, None, 1.5, None),
        (7, T0 + 1, 75.0, None, None, None, None, None, None),
    ]


def test_each_point_at_a_time_that_cannot_be_stored_is_counted():
    ahead = (T0 + 60 + MAX_FUTURE_S + 1) * S
    resource = levels(
        ("system.cpu.utilization", 0.25, ahead),
        ("system.cpu.utilization", 0.5, ahead),
        ("system.memory.utilization", 0.5, ahead),
        ("system.cpu.load_average.1m", 1.5, S - 1),
        ("system.cpu.load_average.1m", 2.5, T0 * S),
    )
    mapped = MetricMapper().map("host", view(resource), T0 + 60)
    assert mapped.invalid == {
        f"system.cpu.utilization: {LATE}": 2,
        f"system.memory.utilization: {LATE}": 1,
        f"system.cpu.load_average.1m: {LATE}": 1,
    }
    assert mapped.rows(7) == [(7, T0, None, None, None, None, None, 2.5, None)]
