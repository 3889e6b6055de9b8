"""Telemetry as numpy arrays: rates from counters, live appends, gaps and CSV.

Pure data handling, no Qt, so it is cheap to test and reuse.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from argos_core.services.dto import TelemetrySeries

# What each chart plots, in order: (column in ChartData.values, label shown to people).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("cpu_percent", "CPU %"),
    ("mem_percent", "Memory %"),
    ("disk_percent", "Disk %"),
    ("net_rx_rate", "Network in (B/s)"),
    ("net_tx_rate", "Network out (B/s)"),
    ("load_1m", "Load (1 min)"),
)
RAW_METRICS = ("cpu_percent", "mem_percent", "disk_percent", "load_1m")
COUNTERS = {"net_rx_rate": "net_rx_bytes", "net_tx_rate": "net_tx_bytes"}
# A silence longer than this many sampling steps breaks the line instead of bridging it.
GAP_FACTOR = 2.5


def counter_rate(ts: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Per-second rate of a cumulative counter; NaN where it is unknown.

    The first sample has no predecessor, and a counter that went backwards (agent restart,
    interface reset, 32-bit wrap) gives no meaningful delta, so both are NaN.
    """
    rate = np.full(ts.shape, np.nan)
    if ts.size < 2:
        return rate
    dt = np.diff(ts)
    dv = np.diff(counter)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = dv / dt
    r[(dv < 0) | (dt <= 0) | ~np.isfinite(r)] = np.nan
    rate[1:] = r
    return rate


def _floats(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@dataclass
class ChartData:
    """The samples a set of charts shows: ``ts`` (Unix seconds) and one array per column.

    ``counters`` keeps the raw network counters so later appends can continue the rates.
    """

    ts: np.ndarray = field(default_factory=lambda: np.empty(0))
    values: dict[str, np.ndarray] = field(default_factory=dict)
    counters: dict[str, np.ndarray] = field(default_factory=dict)
    bucket_s: int = 0
    start: int = 0
    end: int = 0
    # "hourly": rollups, with ``low``/``high`` (each bucket's minimum and maximum) per column
    # and the network rates given, not computed from counters.
    resolution: str = "raw"
    low: dict[str, np.ndarray] = field(default_factory=dict)
    high: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for column, _ in COLUMNS:
            self.values.setdefault(column, np.empty(0))
        for counter in COUNTERS.values():
            self.counters.setdefault(counter, np.empty(0))

    @classmethod
    def from_series(cls, series: TelemetrySeries, known_until: int | None = None) -> ChartData:
        """Arrays from a service answer. ``known_until`` is when the data ends if earlier than
        the query's end (a query widened to whole buckets ends in the future)."""
        ts = np.asarray(series.ts, dtype=float)
        end = series.end if known_until is None else min(series.end, known_until)
        if series.resolution == "hourly":
            none = [None] * len(ts)
            columns = [c for c, _ in COLUMNS]
            return cls(
                ts,
                {c: _floats(series.metrics.get(c, none)) for c in columns},
                {c: np.full(ts.shape, np.nan) for c in COUNTERS.values()},
                series.bucket_s,
                series.start,
                end,
                "hourly",
                {c: _floats(series.minimum.get(c, none)) for c in columns},
                {c: _floats(series.maximum.get(c, none)) for c in columns},
            )
        values = {m: _floats(series.metrics.get(m, [None] * len(ts))) for m in RAW_METRICS}
        counters = {c: _floats(series.metrics.get(c, [None] * len(ts))) for c in COUNTERS.values()}
        data = cls(ts, values, counters, series.bucket_s, series.start, end)
        data.update_rates()
        return data

    def __len__(self) -> int:
        return int(self.ts.size)

    @property
    def last_ts(self) -> int | None:
        return int(self.ts[-1]) if self.ts.size else None

    def merge_tail(self, tail: ChartData, keep_from: int) -> int:
        """Add newer samples (replacing any with the same timestamp) and drop those before
        ``keep_from``. Returns how many samples are new."""
        before = set(self.ts.tolist())
        if tail.ts.size:
            keep = self.ts < tail.ts[0]
            ts = np.concatenate([self.ts[keep], tail.ts])
            counters = {
                c: np.concatenate([self.counters[c][keep], tail.counters[c]]) for c in self.counters
            }
            values = {
                m: np.concatenate([self.values[m][keep], tail.values[m]]) for m in RAW_METRICS
            }
        else:
            ts, counters, values = self.ts, self.counters, dict(self.values)
        window = ts >= keep_from
        self.ts = ts[window]
        self.counters = {c: v[window] for c, v in counters.items()}
        self.values = {m: values[m][window] for m in RAW_METRICS}
        self.end = max(self.end, tail.end)
        self.start = max(self.start, keep_from)
        self.update_rates()
        return len(set(tail.ts.tolist()) - before)

    def update_rates(self) -> None:
        """Network rates from the counters. When buckets average several samples, the last
        one may still be filling (it reaches past ``end``): its average understates the
        counter, so its rate stays unknown. Rollups come with their rates."""
        if self.resolution == "hourly":
            return
        for rate_col, counter in COUNTERS.items():
            rate = counter_rate(self.ts, self.counters[counter])
            if self.bucket_s and self.end and self.step() <= self.bucket_s:
                rate[self.ts + self.bucket_s > self.end] = np.nan
            self.values[rate_col] = rate

    def between(self, start: float, end: float) -> ChartData:
        """The samples with ``start <= ts < end`` (rates as computed on the whole series)."""
        keep = (self.ts >= start) & (self.ts < end)
        return ChartData(
            self.ts[keep],
            {k: v[keep] for k, v in self.values.items()},
            {k: v[keep] for k, v in self.counters.items()},
            self.bucket_s,
            int(max(self.start, start)),
            self.end,
            self.resolution,
            {k: v[keep] for k, v in self.low.items()},
            {k: v[keep] for k, v in self.high.items()},
        )

    def step(self) -> float:
        """The usual time between samples: the median spacing, at least the bucket size."""
        if self.ts.size < 2:
            return float(self.bucket_s or 60)
        return max(float(self.bucket_s), float(np.median(np.diff(self.ts))))

    def to_csv(self, columns: Sequence[str] = tuple(c for c, _ in COLUMNS)) -> str:
        """The shown samples as CSV: local time, Unix seconds, then one column per metric."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["time", "unix_ts", *columns])
        cols = [self.values[c] for c in columns]
        for i, t in enumerate(self.ts):
            local = datetime.fromtimestamp(int(t)).astimezone().isoformat(timespec="seconds")
            writer.writerow([local, int(t), *(_fmt(col[i]) for col in cols)])
        return out.getvalue()


def bucket_average(data: ChartData, bucket_s: int) -> ChartData:
    """Average raw samples into ``bucket_s``-second buckets on multiples of ``bucket_s`` (the
    grid ``plan_query`` makes the database use), ignoring missing values as SQL ``AVG`` does."""
    if not bucket_s or data.ts.size == 0:
        return data
    keys = data.ts - np.mod(data.ts, bucket_s)
    uniq, inverse = np.unique(keys, return_inverse=True)

    def avg(col: np.ndarray) -> np.ndarray:
        ok = np.isfinite(col)
        sums = np.bincount(inverse, weights=np.where(ok, col, 0.0), minlength=uniq.size)
        counts = np.bincount(inverse, weights=ok.astype(float), minlength=uniq.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    counters = {c: avg(v) for c, v in data.counters.items()}
    values = {m: avg(data.values[m]) for m in RAW_METRICS}
    averaged = ChartData(uniq, values, counters, bucket_s, data.start, data.end)
    averaged.update_rates()
    return averaged


def with_gaps(ts: np.ndarray, y: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Insert a NaN after each silence longer than ``GAP_FACTOR`` steps, so an offline agent
    shows as a break in the line (plot with ``connect='finite'``)."""
    if ts.size < 2:
        return ts, y
    gaps = np.nonzero(np.diff(ts) > GAP_FACTOR * max(step, 1.0))[0]
    if gaps.size == 0:
        return ts, y
    x2 = np.insert(ts, gaps + 1, ts[gaps] + step)
    y2 = np.insert(y, gaps + 1, np.nan)
    return x2, y2


def _fmt(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.6g}"
