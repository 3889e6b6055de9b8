"""A second with one CPU utilization point, or one filesystem's utilization and no usage,
gives what the general rules give for it."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.proto.metrics.v1.metrics_pb2 import ResourceMetrics

from ingest_server.otlp.mapping import MetricMapper
from tests.otlp_view import view

T0 = 1_790_000_000
S = 10**9


def one_point(name: str, value: float | int, **labels: Any) -> ResourceMetrics:
    resource = ResourceMetrics()
    metric = resource.scope_metrics.add().metrics.add(name=name)
    dp = metric.gauge.data_points.add(time_unix_nano=T0 * S)
    if isinstance(value, int):
        dp.as_int = value
    else:
        dp.as_double = value
    for key, label in labels.items():
        if isinstance(label, str):
            dp.attributes.add(key=key).value.string_value = label
        else:
            dp.attributes.add(key=key).value.double_value = label
    return resource


def field(resource: ResourceMetrics, name: str) -> float | None:
    return MetricMapper().map("host", view(resource), T0 + 60).columns[name].get(T0)


@pytest.mark.parametrize(
    ("value", "labels", "percent"),
    [
        (0.25, {}, 25.0),
        (1, {}, 100.0),
        (0.25, {"state": "idle"}, 75.0),
        (0.25, {"state": "wait"}, 75.0),
        (0.25, {"state": "user"}, 25.0),
        (1, {"state": "user"}, 100.0),
        (0.0, {"state": "user"}, None),  # all zero: nothing to compare with
    ],
)
def test_one_cpu_utilization_point(value, labels, percent):
    resource = one_point("system.cpu.utilization", value, **labels)
    assert field(resource, "cpu_percent") == percent


@pytest.mark.parametrize(
    ("labels", "percent"),
    [
        ({"mountpoint": "/", "state": "used"}, 40.0),
        ({"mountpoint": "/data"}, 40.0),
        ({"state": "used"}, 40.0),  # no mountpoint: the only one there is
        ({"mountpoint": "/", "state": "free"}, None),
        ({"mountpoint": float("nan"), "state": "used"}, None),  # NaN equals no mount
    ],
)
def test_one_filesystem_utilization_point(labels, percent):
    resource = one_point("system.filesystem.utilization", 0.4, **labels)
    assert field(resource, "disk_percent") == percent
