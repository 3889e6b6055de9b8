"""A data point's labels are what its own attributes say, although the mapper remembers
attributes by their bytes: other value kinds, repeated keys, NaN and more attributes than
it remembers."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.metrics.v1.metrics_pb2 import ResourceMetrics

from ingest_server.otlp import mapping
from ingest_server.otlp.mapping import MetricMapper
from tests.otlp_view import view

T0 = 1_790_000_000
S = 10**9


def cpu_utilization(*points: tuple[float, list[tuple[str, Any]]], at: int = T0) -> ResourceMetrics:
    """``system.cpu.utilization`` points at one second, each with its (key, value) attributes
    in the order given."""
    resource = ResourceMetrics()
    metric = resource.scope_metrics.add().metrics.add(name="system.cpu.utilization")
    for value, attributes in points:
        dp = metric.gauge.data_points.add(time_unix_nano=at * S, as_double=value)
        for key, label in attributes:
            kv = dp.attributes.add(key=key)
            if isinstance(label, str):
                kv.value.string_value = label
            elif isinstance(label, bool):
                kv.value.bool_value = label
            elif isinstance(label, int):
                kv.value.int_value = label
            else:
                kv.value.double_value = label
    return resource


def cpu_percent(mapper: MetricMapper, resource: ResourceMetrics, at: int = T0) -> float | None:
    return mapper.map("host", view(resource), T0 + 60).columns["cpu_percent"].get(at)


def test_an_integer_and_a_text_label_are_different_cpus_however_often_seen():
    mapper = MetricMapper()
    idle = [(0.25, [("state", "idle"), ("cpu", 0)]), (0.25, [("state", "idle"), ("cpu", "0")])]
    for _ in range(3):
        assert cpu_percent(mapper, cpu_utilization(*idle)) == 75.0  # 1 - 0.5 / 2 cpus


def test_the_first_of_repeated_or_aliased_keys_gives_the_label_in_each_point():
    mapper = MetricMapper()
    first_idle = [("state", "idle"), ("cpu.mode", "user"), ("state", "user")]
    first_user = [("cpu.mode", "user"), ("state", "idle")]
    one_cpu = [
        (0.25, [("state", "idle"), ("cpu", "0"), ("cpu.logical_number", "1")]),
        (0.25, [("state", "idle"), ("cpu", "0"), ("cpu", "2")]),
    ]
    for _ in range(2):
        assert cpu_percent(mapper, cpu_utilization((0.75, first_idle))) == 25.0
        assert cpu_percent(mapper, cpu_utilization((0.75, first_user))) == 75.0
        assert cpu_percent(mapper, cpu_utilization(*one_cpu)) == 50.0  # 1 - 0.5 / 1 cpu


def test_a_label_that_is_no_scalar_is_no_label_and_the_next_alias_gives_it():
    resource = cpu_utilization((0.75, [("state", "idle")]))
    dp = resource.scope_metrics[0].metrics[0].gauge.data_points[0]
    dp.attributes.insert(0, dp.attributes[0])
    dp.attributes[0].value.array_value.values.add().string_value = "idle"
    mapper = MetricMapper()
    for _ in range(2):
        assert cpu_percent(mapper, resource) == 25.0  # idle, not a point without a state


def test_each_nan_label_is_a_cpu_of_its_own():
    mapper = MetricMapper()
    nan = float("nan")
    points = [(0.25, [("state", "idle"), ("cpu", nan)]), (0.25, [("state", "idle"), ("cpu", nan)])]
    for _ in range(2):
        assert cpu_percent(mapper, cpu_utilization(*points)) == 75.0  # 1 - 0.5 / 2 cpus


def test_more_attributes_than_remembered_still_give_their_labels(monkeypatch):
    monkeypatch.setattr(mapping, "LABELS_REMEMBERED", 2)
    mapper = MetricMapper()
    for second in range(T0, T0 + 6):
        resource = cpu_utilization(
            (0.25, [("state", "idle"), ("cpu", f"cpu{second}")]),
            (0.25, [("state", "user"), ("cpu", f"cpu{second + 1}")]),
            at=second,
        )
        assert cpu_percent(mapper, resource, at=second) == 87.5  # 1 - 0.25 / 2 cpus
