"""A node's aggregate series (average and highest across its agents) as chart arrays."""

from __future__ import annotations

import numpy as np

from argos_core.services.dto import NodeSeries
from argos_desktop.charts.chart_specs import NODE_CHARTS
from argos_desktop.charts.series import COUNTERS, ChartData

COLUMNS = tuple(curve.column for spec in NODE_CHARTS for curve in spec.curves)


def _floats(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def node_chart_data(series: NodeSeries, known_until: int | None = None) -> ChartData:
    """Per metric ``<metric>`` (the average across agents) and ``<metric>_max`` (the highest
    of any agent), and ``agents_reporting``, in hourly (or larger) buckets."""
    ts = np.asarray(series.ts, dtype=float)
    values = {"agents_reporting": np.asarray(series.agents_reporting, dtype=float)}
    for metric, column in series.average.items():
        values[metric] = _floats(column)
    for metric, column in series.maximum.items():
        values[f"{metric}_max"] = _floats(column)
    for column in COLUMNS:
        values.setdefault(column, np.full(ts.shape, np.nan))
    end = series.end if known_until is None else min(series.end, known_until)
    counters = {c: np.full(ts.shape, np.nan) for c in COUNTERS.values()}
    return ChartData(ts, values, counters, series.bucket_s, series.start, end, resolution="hourly")
