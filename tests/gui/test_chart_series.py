"""Telemetry arrays for the charts: counter rates, bucket averages, gaps, CSV, query size."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from argos_core.services.dto import METRICS, TelemetrySeries
from argos_desktop.charts.series import (
    ChartData,
    bucket_average,
    counter_rate,
    with_gaps,
)
from argos_desktop.charts.time_range import MAX_POINTS, TimeRange, plan_query


def series(ts: list[int], bucket_s: int = 0, **overrides: list) -> TelemetrySeries:
    metrics = {m: [float(i) for i in range(len(ts))] for m in METRICS}
    metrics.update(overrides)
    return TelemetrySeries(
        "a", ts[0] if ts else 0, (ts[-1] + 1) if ts else 1, bucket_s, ts, metrics
    )


def test_counter_rate_is_bytes_per_second_between_samples():
    ts = np.array([0.0, 60.0, 120.0])
    rate = counter_rate(ts, np.array([1000.0, 7000.0, 13000.0]))
    assert np.isnan(rate[0])
    assert rate[1:].tolist() == [100.0, 100.0]


def test_counter_reset_gives_no_rate_instead_of_a_negative_spike():
    ts = np.array([0.0, 60.0, 120.0, 180.0])
    rate = counter_rate(ts, np.array([6000.0, 12000.0, 600.0, 6600.0]))
    assert np.isnan(rate[2])
    assert rate[1] == 100.0 and rate[3] == 100.0


def test_missing_values_become_nan_and_rates_come_from_the_counters():
    data = ChartData.from_series(
        series([0, 60, 120], cpu_percent=[1.0, None, 3.0], net_rx_bytes=[0.0, 600.0, 1800.0])
    )
    assert np.isnan(data.values["cpu_percent"][1])
    assert data.values["net_rx_rate"][1:].tolist() == [10.0, 20.0]


def test_bucket_average_matches_the_database_alignment_and_skips_missing_values():
    raw = ChartData.from_series(
        series([590, 600, 660, 1190, 1200], cpu_percent=[1.0, 2.0, None, 4.0, 8.0])
    )
    avg = bucket_average(raw, 600)
    assert avg.ts.tolist() == [0, 600, 1200]
    assert avg.values["cpu_percent"].tolist() == [1.0, 3.0, 8.0]
    assert avg.bucket_s == 600


def test_merge_tail_replaces_the_partial_bucket_appends_and_slides_the_window():
    data = ChartData.from_series(series([0, 60, 120]))
    tail = ChartData.from_series(series([120, 180, 240], cpu_percent=[9.0, 10.0, 11.0]))
    added = data.merge_tail(tail, keep_from=60)
    assert added == 2
    assert data.ts.tolist() == [60, 120, 180, 240]
    assert data.values["cpu_percent"].tolist() == [1.0, 9.0, 10.0, 11.0]


def test_a_long_silence_breaks_the_line():
    ts = np.array([0.0, 60.0, 120.0, 1200.0, 1260.0])
    x, y = with_gaps(ts, np.ones(5), 60.0)
    assert len(x) == 6
    assert np.isnan(y[3]) and x[3] == 180.0


def test_csv_has_a_header_and_one_row_per_sample_with_rates():
    data = ChartData.from_series(
        series([1_700_000_000, 1_700_000_060], net_rx_bytes=[0.0, 6000.0], cpu_percent=[5.5, None])
    )
    rows = list(csv.reader(io.StringIO(data.to_csv())))
    assert rows[0][:3] == ["time", "unix_ts", "cpu_percent"]
    assert "net_rx_rate" in rows[0]
    assert [r[1] for r in rows[1:]] == ["1700000000", "1700000060"]
    rx = rows[0].index("net_rx_rate")
    assert rows[1][rx] == "" and rows[2][rx] == "100"
    assert rows[1][2] == "5.5" and rows[2][2] == ""


@pytest.mark.parametrize("days", [1, 7, 30, 365])
def test_queries_ask_for_no_more_points_than_pixels_in_round_aligned_buckets(days):
    end = 1_780_000_123
    start = end - days * 86400
    q_start, q_end, max_points = plan_query(start, end, 1000)
    assert max_points <= 1000
    bucket = -(-(q_end - q_start) // max_points)
    assert q_start <= start < q_start + bucket and end <= q_end < end + bucket
    assert q_start % bucket == 0 and (q_end - q_start) % bucket == 0
    assert days == 365 or bucket % 60 == 0


def test_short_ranges_are_asked_for_raw_samples():
    assert plan_query(1000, 4600, 4000) == (1000, 4600, 4000)


def test_point_budget_is_bounded_for_huge_screens():
    assert plan_query(0, 86400, 10_000)[2] <= MAX_POINTS


def test_live_ranges_end_now_and_custom_ranges_stay_put():
    assert TimeRange.preset("6 h").bounds(10_000.5) == (10_001 - 6 * 3600, 10_001)
    custom = TimeRange.custom(100, 500)
    assert not custom.live and custom.bounds(99_999) == (100, 500)
