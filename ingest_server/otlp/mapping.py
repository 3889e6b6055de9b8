"""OpenTelemetry host metrics onto the Argos sample fields.

One sample per resource and second: every mapped data point whose ``time_unix_nano`` falls in
the same second fills a field of the same sample. Which metric feeds which field:

- ``cpu_percent``: ``system.cpu.utilization`` (100 x (1 - idle/number of CPUs), ``wait`` and
  ``iowait`` counted as idle like psutil does; without an idle state the busy states' sum),
  else the rate of ``system.cpu.time`` (busy share of the CPU seconds between two points).
- ``mem_percent``: ``system.memory.utilization`` state ``used``, else ``system.memory.usage``
  ``used`` over the sum of all states.
- ``disk_percent``: the filesystem mounted at ``/`` (else ``C:``/``C:\\``, else the largest
  one by ``system.filesystem.usage``, else the first mountpoint by name), from
  ``system.filesystem.utilization``, else ``used / (used + free)`` of its usage.
- ``net_rx_bytes``/``net_tx_bytes``: ``system.network.io`` summed over every device except
  loopback, as a running counter (the console derives rates).
- ``load_1m``: ``system.cpu.load_average.1m``; ``uptime_s``: ``system.uptime``.

Temporality: cumulative sums are used as they are (counters) or against the previous point of
the same series (CPU time); delta sums count from their own start time (CPU time) or are added
up into a running total (network bytes), kept in this process's memory. A level (utilization,
usage, load, uptime) sent as a delta sum is refused. Every other metric is counted as not
stored.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, ResourceMetrics

from ingest_server.samples import MAX_COUNTER, MAX_FUTURE_S, MAX_LOAD, METRICS

DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
NO_RECORDED_VALUE = 1
SCALARS = frozenset({"string_value", "int_value", "double_value", "bool_value"})
NANOS = 1_000_000_000
TOLERANCE = 1e-6
IDLE_STATES = frozenset({"idle", "wait", "iowait"})
ROOT_MOUNTS = ("/", "C:", "C:\\")
LOOPBACK = re.compile(r"lo\d*|.*loopback.*", re.IGNORECASE)
# Metrics whose values are levels (a delta makes no sense) and those that are counters.
LEVELS = frozenset(
    {
        "system.cpu.utilization",
        "system.memory.utilization",
        "system.memory.usage",
        "system.filesystem.utilization",
        "system.filesystem.usage",
        "system.cpu.load_average.1m",
        "system.uptime",
    }
)
COUNTERS = frozenset({"system.cpu.time", "system.network.io"})
# The labels (see LABELS) each metric's points are read for.
WANTED = {
    "system.cpu.utilization": frozenset({"state", "cpu"}),
    "system.cpu.time": frozenset({"state", "cpu"}),
    "system.memory.utilization": frozenset({"state"}),
    "system.memory.usage": frozenset({"state"}),
    "system.filesystem.utilization": frozenset({"mountpoint", "state"}),
    "system.filesystem.usage": frozenset({"mountpoint", "state"}),
    "system.network.io": frozenset({"device", "direction"}),
    "system.cpu.load_average.1m": frozenset(),
    "system.uptime": frozenset(),
}
FRACTIONS = frozenset(
    {"system.cpu.utilization", "system.memory.utilization", "system.filesystem.utilization"}
)
# Old (hostmetrics, Python instrumentation) and current semantic-convention attribute names.
STATE = ("state", "cpu.mode", "system.cpu.state", "system.memory.state", "system.filesystem.state")
CPU = ("cpu", "cpu.logical_number")
DEVICE = ("device", "network.interface.name", "system.device")
DIRECTION = ("direction", "network.io.direction")
MOUNTPOINT = ("mountpoint", "system.filesystem.mountpoint")
LABELS = {
    alias: label
    for label, aliases in (
        ("state", STATE),
        ("cpu", CPU),
        ("device", DEVICE),
        ("direction", DIRECTION),
        ("mountpoint", MOUNTPOINT),
    )
    for alias in aliases
}


class Point(NamedTuple):
    second: int
    value: float
    start_ns: int
    time_ns: int
    delta: bool
    labels: dict[str, Any]  # the attributes above, under their first (older) name

    def label(self, name: str) -> Any:
        return self.labels.get(name)


@dataclass
class MappedResource:
    """What one resource's metrics give: samples by second, and what was not stored."""

    samples: dict[int, dict[str, float | int]] = field(default_factory=dict)
    data_points: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(self.unmapped.values()) + sum(self.invalid.values())

    def rows(self, agent_id: int) -> list[tuple]:
        """Rows ``(agent_id, ts, *METRICS)`` in time order, as the writer takes them."""
        return [
            (agent_id, ts, *(fields.get(m) for m in METRICS))
            for ts, fields in sorted(self.samples.items())
        ]

    def set(self, second: int, name: str, value: float | int | None) -> None:
        if value is not None:
            self.samples.setdefault(second, {})[name] = value


class SeriesMemory:
    """Per-series state the rates and running totals need, bounded (least recently used
    series forgotten first). Kept per process."""

    def __init__(self, max_series: int = 500_000) -> None:
        self._max = max_series
        self._values: OrderedDict[Hashable, tuple[int, int, float]] = OrderedDict()

    def get(self, key: Hashable) -> tuple[int, int, float] | None:
        return self._values.get(key)

    def put(self, key: Hashable, start_ns: int, time_ns: int, value: float) -> None:
        self._values[key] = (start_ns, time_ns, value)
        self._values.move_to_end(key)
        while len(self._values) > self._max:
            self._values.popitem(last=False)


class MetricMapper:
    def __init__(self, memory: SeriesMemory | None = None) -> None:
        self._memory = memory or SeriesMemory()

    def map(self, host: Hashable, resource_metrics: ResourceMetrics, now: float) -> MappedResource:
        """Samples of one resource; ``host`` keys the series memory (branch and machine)."""
        out = MappedResource()
        points = self._collect(resource_metrics, out, int(now) + MAX_FUTURE_S)
        _cpu_utilization(points["system.cpu.utilization"], out)
        self._cpu_time(host, points["system.cpu.time"], out)
        _memory(points["system.memory.utilization"], points["system.memory.usage"], out)
        _disk(points["system.filesystem.utilization"], points["system.filesystem.usage"], out)
        self._network(host, points["system.network.io"], out)
        for p in points["system.cpu.load_average.1m"]:
            out.set(p.second, "load_1m", min(float(p.value), MAX_LOAD))
        for p in points["system.uptime"]:
            out.set(p.second, "uptime_s", min(int(p.value), MAX_COUNTER))
        return out

    def _collect(
        self, resource_metrics: ResourceMetrics, out: MappedResource, latest: int
    ) -> dict[str, list[Point]]:
        points: dict[str, list[Point]] = defaultdict(list)
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                data_points = getattr(metric, kind).data_points if kind else ()
                out.data_points += len(data_points)
                name = metric.name
                if name not in LEVELS and name not in COUNTERS:
                    out.unmapped[name] += len(data_points)
                    continue
                temporality = metric.sum.aggregation_temporality if kind == "sum" else CUMULATIVE
                if kind not in ("gauge", "sum") or temporality not in (DELTA, CUMULATIVE):
                    out.invalid[f"{name} must be a gauge or a cumulative or delta sum"] += len(
                        data_points
                    )
                    continue
                if temporality == DELTA and name in LEVELS:
                    out.invalid[f"{name} is a level, not a delta sum"] += len(data_points)
                    continue
                delta = temporality == DELTA
                highest = 1 + TOLERANCE if name in FRACTIONS else math.inf
                wanted = WANTED[name]
                found = points[name]
                for dp in data_points:
                    point = _point(dp, delta, latest, highest, wanted)
                    if type(point) is Point:
                        found.append(point)
                    elif point is not None:
                        out.invalid[f"{name}: {point}"] += 1
        return points

    def _cpu_time(self, host: Hashable, points: list[Point], out: MappedResource) -> None:
        """Busy share of the CPU seconds since the previous point of each series."""
        for second, group in _by_second(points):
            total = idle = 0.0
            complete = True
            for p in group:
                series = (host, "cpu.time", p.label("cpu"), p.label("state"))
                change = p.value
                if not p.delta:
                    before = self._memory.get(series)
                    if before is not None and before[1] >= p.time_ns:
                        complete = False  # a resent or older point
                        continue
                    self._memory.put(series, p.start_ns, p.time_ns, p.value)
                    if before is None or before[0] != p.start_ns or p.value < before[2]:
                        complete = False  # first sight, or the counter restarted
                        continue
                    change = p.value - before[2]
                total += change
                if p.label("state") in IDLE_STATES:
                    idle += change
            if complete and total > 0 and "cpu_percent" not in out.samples.get(second, {}):
                out.set(second, "cpu_percent", _percent(1 - idle / total))

    def _network(self, host: Hashable, points: list[Point], out: MappedResource) -> None:
        for second, group in _by_second(points):
            sums = {"receive": 0, "transmit": 0}
            seen = set()
            for p in group:
                device, direction = p.label("device"), p.label("direction")
                if direction not in sums or (
                    isinstance(device, str) and LOOPBACK.fullmatch(device)
                ):
                    continue
                value = int(p.value)
                if p.delta:
                    series = (host, "network.io", device, direction)
                    before = self._memory.get(series)
                    total = before[2] if before else 0
                    if before is None or before[1] < p.time_ns:  # a resent point counts once
                        total += value
                        self._memory.put(series, p.start_ns, p.time_ns, total)
                    value = int(total)
                sums[direction] += value
                seen.add(direction)
            for direction, column in (("receive", "net_rx_bytes"), ("transmit", "net_tx_bytes")):
                if direction in seen:
                    out.set(second, column, min(sums[direction], MAX_COUNTER))


def _point(
    dp: Any, delta: bool, latest: int, highest: float, wanted: frozenset[str]
) -> Point | str | None:
    """A data point, the reason it is invalid, or None when it carries no value. Only
    ``wanted`` labels are read (attribute access is the costly part of a point)."""
    if dp.flags & NO_RECORDED_VALUE:
        return None
    value = dp.as_double or dp.as_int
    if not value and dp.WhichOneof("value") is None:
        return "a data point without a value"
    if not 0 <= value <= highest:  # also false for NaN
        if value > highest and math.isfinite(value):
            return "a fraction above 1"
        return "a negative or non-finite value"
    time_ns = dp.time_unix_nano
    second = time_ns // NANOS
    if not 0 < second <= latest:
        return f"a time before 1970 or more than {MAX_FUTURE_S} s ahead"
    labels = {}
    if wanted:
        for kv in dp.attributes:
            label = LABELS.get(kv.key)
            if label in wanted and label not in labels:
                text = kv.value.string_value
                labels[label] = text if text else _scalar(kv.value)
                if len(labels) == len(wanted):
                    break
    return Point(second, value, dp.start_time_unix_nano, time_ns, delta, labels)


def _scalar(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in SCALARS else None


def _loopback(device: Any) -> bool:
    return isinstance(device, str) and LOOPBACK.fullmatch(device) is not None


def _by_second(points: Iterable[Point]) -> list[tuple[int, list[Point]]]:
    groups: dict[int, list[Point]] = defaultdict(list)
    for p in points:
        groups[p.second].append(p)
    return sorted(groups.items())


def _percent(fraction: float) -> float:
    return min(100.0, max(0.0, 100.0 * fraction))


def _cpu_utilization(points: list[Point], out: MappedResource) -> None:
    for second, group in _by_second(points):
        cpus = {p.label("cpu") for p in group}
        states = [p for p in group if p.label("state") is not None]
        if states and not any(p.value for p in states):
            continue  # all zero: a first reading with nothing to compare with (psutil)
        if not states:
            busy = sum(p.value for p in group) / len(group)
        elif any(p.label("state") in IDLE_STATES for p in states):
            busy = 1 - sum(p.value for p in states if p.label("state") in IDLE_STATES) / len(cpus)
        else:
            busy = sum(p.value for p in states) / len(cpus)
        out.set(second, "cpu_percent", _percent(busy))


def _memory(utilization: list[Point], usage: list[Point], out: MappedResource) -> None:
    for second, group in _by_second(utilization):
        used = _used(group)
        if used is not None:
            out.set(second, "mem_percent", _percent(used))
    for second, group in _by_second(usage):
        used = [p.value for p in group if p.label("state") == "used"]
        total = sum(p.value for p in group)
        if used and total > 0 and "mem_percent" not in out.samples.get(second, {}):
            out.set(second, "mem_percent", _percent(sum(used) / total))


def _used(group: list[Point]) -> float | None:
    """The ``used`` fraction, or the single value of a point without a state."""
    states = [p for p in group if p.label("state") is not None]
    if not states:
        return group[-1].value
    used = [p.value for p in states if p.label("state") == "used"]
    return sum(used) if used else None


def _disk(utilization: list[Point], usage: list[Point], out: MappedResource) -> None:
    by_second: dict[int, tuple[list[Point], list[Point]]] = defaultdict(lambda: ([], []))
    for p in utilization:
        by_second[p.second][0].append(p)
    for p in usage:
        by_second[p.second][1].append(p)
    for second, (util, use) in sorted(by_second.items()):
        mount = _chosen_mount(util, use)
        if mount is None:
            continue
        mine = [p for p in util if p.label("mountpoint") == mount]
        fraction = _used(mine) if mine else None
        if fraction is None:
            mine = [p for p in use if p.label("mountpoint") == mount]
            used = sum(p.value for p in mine if p.label("state") == "used")
            free = sum(p.value for p in mine if p.label("state") == "free")
            fraction = used / (used + free) if used + free > 0 else None
        if fraction is not None:
            out.set(second, "disk_percent", _percent(fraction))


def _chosen_mount(util: list[Point], use: list[Point]) -> Any:
    mounts = {p.label("mountpoint") for p in (*util, *use)}
    for root in ROOT_MOUNTS:
        if root in mounts:
            return root
    sizes: dict[Any, float] = defaultdict(float)
    for p in use:
        sizes[p.label("mountpoint")] += p.value
    if sizes:
        return max(sizes, key=lambda m: (sizes[m], str(m)))
    return min(mounts, key=str) if mounts else None
