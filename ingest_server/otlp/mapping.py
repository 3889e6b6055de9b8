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
import sys
from collections import Counter, OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

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
# The mapped metrics, and the two labels (see LABELS) read from each of their points.
MAPPED: dict[str, tuple[str | None, str | None]] = {
    "system.cpu.utilization": ("state", "cpu"),
    "system.cpu.time": ("state", "cpu"),
    "system.memory.utilization": ("state", None),
    "system.memory.usage": ("state", None),
    "system.filesystem.utilization": ("mountpoint", "state"),
    "system.filesystem.usage": ("mountpoint", "state"),
    "system.network.io": ("device", "direction"),
    "system.cpu.load_average.1m": (None, None),
    "system.uptime": (None, None),
}
# How many attributes (by their bytes) a mapper remembers per metric before starting afresh.
LABELS_REMEMBERED = 4096
COUNTERS = frozenset({"system.cpu.time", "system.network.io"})  # the rest are levels
# The levels of a single series, put straight into their sample field (the last point of each
# second wins) instead of being grouped by second first.
SINGLE_SERIES = {"system.cpu.load_average.1m": "load_1m", "system.uptime": "uptime_s"}
# The counters whose start time is read (a rate needs to see a restart; a running total
# of network bytes does not).
RESTARTS = frozenset({"system.cpu.time"})
FRACTIONS = frozenset(
    {"system.cpu.utilization", "system.memory.utilization", "system.filesystem.utilization"}
)
# Old (hostmetrics, Python instrumentation) and current semantic-convention attribute names,
# each read under the first (older) one.
LABELS = {
    alias: label
    for label, aliases in (
        ("state", ("state", "cpu.mode", "system.cpu.state", "system.memory.state")),
        ("state", ("system.filesystem.state",)),
        ("cpu", ("cpu", "cpu.logical_number")),
        ("device", ("device", "network.interface.name", "system.device")),
        ("direction", ("direction", "network.io.direction")),
        ("mountpoint", ("mountpoint", "system.filesystem.mountpoint")),
    )
    for alias in aliases
}
# Per mapped metric, which of its two labels each attribute name gives (0: first, 1: second).
SLOTS: dict[str, dict[str, int]] = {
    name: {alias: labels.index(label) for alias, label in LABELS.items() if label in labels}
    for name, labels in MAPPED.items()
}

# A data point as the mapping reads it: (value, first label, second label,
# start_time_unix_nano (0 unless in RESTARTS), time_unix_nano), kept in a list per second
# (``Seconds``) of its metric. Plain tuples: a request carries thousands.
Point = tuple[float, Any, Any, int, int]
Seconds = dict[int, list[Point]]
# One sample field's values by second.
Column = dict[int, float | int]


@dataclass
class MappedResource:
    """What one resource's metrics give: each sample field's values by second (a sample per
    second that has any), and what was not stored."""

    columns: dict[str, Column] = field(default_factory=lambda: {m: {} for m in METRICS})
    data_points: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(self.unmapped.values()) + sum(self.invalid.values())

    def rows(self, agent_id: int) -> list[tuple]:
        """Rows ``(agent_id, ts, *METRICS)`` in time order, as the writer takes them."""
        columns = [self.columns[m] for m in METRICS]
        seconds = sorted(set().union(*columns))
        return list(zip(repeat(agent_id), seconds, *[map(c.get, seconds) for c in columns]))

    def merge(self, more: MappedResource) -> None:
        """Another resource of the same host: where both give a field, ``more``'s wins."""
        for name, column in more.columns.items():
            self.columns[name].update(column)
        self.data_points += more.data_points
        self.unmapped.update(more.unmapped)
        self.invalid.update(more.invalid)


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
        # Per mapped metric, an attribute's serialized bytes -> (its slot or None, label).
        self._labels: dict[str, dict[bytes, tuple[int | None, Any]]] = {n: {} for n in MAPPED}

    def map(self, host: Hashable, resource_metrics: Message, now: float) -> MappedResource:
        """Samples of one resource (a ``ResourceMetricsView``); ``host`` keys the series
        memory (branch and machine)."""
        out = MappedResource()
        points, delta = self._collect(resource_metrics, out, int(now) + MAX_FUTURE_S)
        columns = out.columns
        cpu = columns["cpu_percent"]
        _cpu_utilization(points["system.cpu.utilization"], cpu)
        self._cpu_time(host, points["system.cpu.time"], delta["system.cpu.time"], cpu)
        _memory(
            points["system.memory.utilization"],
            points["system.memory.usage"],
            columns["mem_percent"],
        )
        _disk(
            points["system.filesystem.utilization"],
            points["system.filesystem.usage"],
            columns["disk_percent"],
        )
        self._network(
            host,
            points["system.network.io"],
            delta["system.network.io"],
            (columns["net_rx_bytes"], columns["net_tx_bytes"]),
        )
        columns["load_1m"] = {
            at: MAX_LOAD if value > MAX_LOAD else float(value)
            for at, value in columns["load_1m"].items()
        }
        columns["uptime_s"] = {
            at: MAX_COUNTER if value > MAX_COUNTER else int(value)
            for at, value in columns["uptime_s"].items()
        }
        return out

    def _collect(
        self, resource_metrics: Message, out: MappedResource, latest: int
    ) -> tuple[dict[str, Seconds], dict[str, bool]]:
        """The valid points of each mapped metric by second (and whether it is a delta sum);
        the rest is counted in ``out``."""
        points: dict[str, Seconds] = {name: {} for name in MAPPED}
        delta: dict[str, bool] = dict.fromkeys(MAPPED, False)
        invalid = out.invalid
        # Each valid time_unix_nano's second: the metrics of a sample share their times.
        seconds: dict[int, int] = {}
        # Repeated fields are iterated as slices (lists): iterating them directly ends on an
        # IndexError raised in C, a sixth of the cost of reading a data point's labels.
        for scope in resource_metrics.scope_metrics[:]:
            for metric in scope.metrics[:]:
                kind = metric.WhichOneof("data")
                data_points = getattr(metric, kind).data_points if kind else ()
                count = len(data_points)
                out.data_points += count
                name = metric.name
                if name not in MAPPED:
                    out.unmapped[name] += count
                    continue
                temporality = metric.sum.aggregation_temporality if kind == "sum" else CUMULATIVE
                if kind not in ("gauge", "sum") or temporality not in (DELTA, CUMULATIVE):
                    problem = f"{name} must be a gauge or a cumulative or delta sum"
                    invalid[problem] += count
                    continue
                if temporality == DELTA and name not in COUNTERS:
                    invalid[f"{name} is a level, not a delta sum"] += count
                    continue
                delta[name] = temporality == DELTA
                # Below the largest float rather than infinity: infinity is no value either.
                highest = 1 + TOLERANCE if name in FRACTIONS else sys.float_info.max
                slots = SLOTS[name]
                labels = self._labels[name]
                found = points[name]
                restarts = name in RESTARTS
                level = out.columns[SINGLE_SERIES[name]] if name in SINGLE_SERIES else None
                # The hot loop: as few field reads per point as can be, nothing built but
                # the tuple (the flags and the value's kind are read only for a zero), put
                # straight into its second's list (a single series' level: into its column).
                # An attribute is its bytes (see metrics_view.py), looked up among those seen
                # before: reading its key, value and the value's text costs more (three
                # wrapper objects). A NaN label is not remembered: each stays its own.
                for dp in data_points[:]:
                    value = dp.as_double or dp.as_int
                    if not 0 <= value <= highest:  # also false for NaN
                        if value > highest and math.isfinite(value):
                            invalid[f"{name}: a fraction above 1"] += 1
                        else:
                            invalid[f"{name}: a negative or non-finite value"] += 1
                        continue
                    if not value:
                        if dp.flags & NO_RECORDED_VALUE:
                            continue
                        if dp.WhichOneof("value") is None:
                            invalid[f"{name}: a data point without a value"] += 1
                            continue
                    time_ns = dp.time_unix_nano
                    at = seconds.get(time_ns)
                    if at is None:
                        at = time_ns // NANOS
                        if not 0 < at <= latest:
                            invalid[
                                f"{name}: a time before 1970 or more than {MAX_FUTURE_S} s ahead"
                            ] += 1
                            continue
                        seconds[time_ns] = at
                    if level is not None:
                        level[at] = value
                        continue
                    a = b = None
                    attributes = dp.attributes
                    for attribute in (attributes[0],) if len(attributes) == 1 else attributes[:]:
                        known = labels.get(attribute)
                        if known is None:
                            known = _label(KeyValue.FromString(attribute), slots)
                            if known[1] == known[1]:
                                if len(labels) >= LABELS_REMEMBERED:
                                    labels.clear()
                                labels[attribute] = known
                        slot, label = known
                        if slot == 0:
                            if a is None:
                                a = label
                        elif slot == 1 and b is None:
                            b = label
                    point = (value, a, b, dp.start_time_unix_nano if restarts else 0, time_ns)
                    group = found.get(at)
                    if group is None:
                        found[at] = [point]
                    else:
                        group.append(point)
        return points, delta

    def _cpu_time(self, host: Hashable, points: Seconds, delta: bool, out: Column) -> None:
        """Busy share of the CPU seconds since the previous point of each series (unless
        ``out`` has the second from ``system.cpu.utilization``)."""
        memory = self._memory
        for at, group in sorted(points.items()):
            total = idle = 0.0
            complete = True
            for value, state, cpu, start_ns, time_ns in group:
                change = value
                if not delta:
                    series = (host, "cpu.time", cpu, state)
                    before = memory.get(series)
                    if before is not None and before[1] >= time_ns:
                        complete = False  # a resent or older point
                        continue
                    memory.put(series, start_ns, time_ns, value)
                    if before is None or before[0] != start_ns or value < before[2]:
                        complete = False  # first sight, or the counter restarted
                        continue
                    change = value - before[2]
                total += change
                if state in IDLE_STATES:
                    idle += change
            if complete and total > 0 and at not in out:
                out[at] = _percent(1 - idle / total)

    def _network(
        self, host: Hashable, points: Seconds, delta: bool, out: tuple[Column, Column]
    ) -> None:
        """Bytes received and sent (``out``) over the devices other than loopback."""
        memory = self._memory
        received, sent = out
        # In time order when adding deltas up; otherwise each second stands alone.
        for at, group in sorted(points.items()) if delta else points.items():
            rx = tx = None
            for value, device, direction, start_ns, time_ns in group:
                if direction not in ("receive", "transmit") or _loopback(device):
                    continue
                count = int(value)
                if delta:
                    series = (host, "network.io", device, direction)
                    before = memory.get(series)
                    total = before[2] if before else 0
                    if before is None or before[1] < time_ns:  # a resent point counts once
                        total += count
                        memory.put(series, start_ns, time_ns, total)
                    count = int(total)
                if direction == "receive":
                    rx = (rx or 0) + count
                else:
                    tx = (tx or 0) + count
            if rx is not None:
                received[at] = MAX_COUNTER if rx > MAX_COUNTER else rx
            if tx is not None:
                sent[at] = MAX_COUNTER if tx > MAX_COUNTER else tx


def _label(kv: KeyValue, slots: dict[str, int]) -> tuple[int | None, Any]:
    """Which label an attribute gives (None: none) and its value."""
    slot = slots.get(kv.key)
    if slot is None:
        return None, None
    value = kv.value
    return slot, value.string_value or _scalar(value)


def _scalar(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in SCALARS else None


@lru_cache(maxsize=1024, typed=True)
def _loopback(device: Any) -> bool:
    """Remembered: the same few device names come with every point."""
    return isinstance(device, str) and LOOPBACK.fullmatch(device) is not None


def _percent(fraction: float) -> float:
    """Between 0 and 100 (0 for NaN)."""
    percent = 100.0 * fraction
    if 0.0 < percent <= 100.0:
        return percent
    return 100.0 if percent > 100.0 else 0.0


def _cpu_utilization(points: Seconds, out: Column) -> None:
    for at, group in points.items():
        if len(group) == 1:  # what follows, in short
            value, state, _, _, _ = group[0]
            if state is None:
                out[at] = _percent(float(value))
            elif value:
                out[at] = _percent(1 - value if state in IDLE_STATES else float(value))
            continue
        cpus = set()
        idle = busy = stateless = 0.0
        with_state = without_state = 0
        saw_idle = False
        for value, state, cpu, _, _ in group:
            if state is None:
                stateless += value
                without_state += 1
                continue
            with_state += 1
            cpus.add(cpu)
            if state in IDLE_STATES:
                idle += value
                saw_idle = True
            else:
                busy += value
        if not with_state:
            fraction = stateless / without_state
        elif not idle and not busy:
            continue  # all zero: a first reading with nothing to compare with (psutil)
        elif saw_idle:
            fraction = 1 - idle / len(cpus)
        else:
            fraction = busy / len(cpus)
        out[at] = _percent(fraction)


def _memory(utilization: Seconds, usage: Seconds, out: Column) -> None:
    for at, group in utilization.items():
        used = _used(group)
        if used is not None:
            out[at] = _percent(used)
    for at, group in usage.items():
        used = [value for value, state, *_ in group if state == "used"]
        total = sum(point[0] for point in group)
        if used and total > 0 and at not in out:
            out[at] = _percent(sum(used) / total)


def _used(group: list[Point], state_at: int = 1) -> float | None:
    """The ``used`` fraction, or the value of a point without a state."""
    if len(group) == 1:
        value, state = group[0][0], group[0][state_at]
        return value if state is None or state == "used" else None
    states = [point for point in group if point[state_at] is not None]
    if not states:
        return group[-1][0]
    used = [point[0] for point in states if point[state_at] == "used"]
    return sum(used) if used else None


def _disk(utilization: Seconds, usage: Seconds, out: Column) -> None:
    for at in utilization.keys() | usage.keys() if usage else utilization.keys():
        util, use = utilization.get(at, []), usage.get(at, [])
        if len(util) == 1 and not use:  # one filesystem: what follows, in short
            value, mount, state, _, _ = util[0]
            if mount == mount and (state is None or state == "used"):  # a NaN label is no mount
                out[at] = _percent(value)
            continue
        mount = _chosen_mount(util, use)
        mine = [point for point in util if point[1] == mount]
        fraction = _used(mine, state_at=2) if mine else None
        if fraction is None:
            mine = [point for point in use if point[1] == mount]
            used = sum(point[0] for point in mine if point[2] == "used")
            free = sum(point[0] for point in mine if point[2] == "free")
            fraction = used / (used + free) if used + free > 0 else None
        if fraction is not None:
            out[at] = _percent(fraction)


def _chosen_mount(util: list[Point], use: list[Point]) -> Any:
    """``/`` (or ``C:``), else the largest filesystem by usage, else the first by name."""
    mounts = {point[1] for point in (*util, *use)}
    for root in ROOT_MOUNTS:
        if root in mounts:
            return root
    sizes: dict[Any, float] = {}
    for point in use:
        sizes[point[1]] = sizes.get(point[1], 0.0) + point[0]
    if sizes:
        return max(sizes, key=lambda m: (sizes[m], str(m)))
    return min(mounts, key=str)
