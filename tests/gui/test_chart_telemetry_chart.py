"""The reusable TelemetryChart widget: curves, date axis, crosshair read-out."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from argos_core.services.dto import METRICS, TelemetrySeries
from argos_desktop.charts.series import ChartData
from argos_desktop.charts.telemetry_chart import CurveSpec, TelemetryChart

T0 = 1_700_000_000


def data(n: int, step: int = 60) -> ChartData:
    ts = [T0 + i * step for i in range(n)]
    metrics = {m: [float(i % 100) for i in range(n)] for m in METRICS}
    metrics["net_rx_bytes"] = [i * 6000.0 for i in range(n)]
    metrics["net_tx_bytes"] = [i * 600.0 for i in range(n)]
    return ChartData.from_series(TelemetrySeries("a", T0, T0 + n * step, 0, ts, metrics))


@pytest.fixture
def cpu_chart(qtbot) -> TelemetryChart:
    chart = TelemetryChart("CPU", [CurveSpec("cpu_percent", "CPU", "#2f7ed8")], percent=True)
    qtbot.addWidget(chart)
    chart.resize(800, 200)
    return chart


def test_chart_uses_a_date_axis_and_peak_downsampling_clipped_to_view(cpu_chart):
    item = cpu_chart.plot_item
    assert isinstance(item.getAxis("bottom"), pg.DateAxisItem)
    curve = cpu_chart.curve("cpu_percent")
    assert curve.opts["autoDownsample"] is True
    assert curve.opts["downsampleMethod"] == "peak"
    assert curve.opts["clipToView"] is True


def test_set_data_updates_the_same_curve_with_every_sample(cpu_chart):
    curve = cpu_chart.curve("cpu_percent")
    cpu_chart.set_data(data(500))
    assert cpu_chart.curve("cpu_percent") is curve
    x, y = curve.getOriginalDataset()
    assert len(x) == 500 and np.isfinite(y).sum() == 500
    cpu_chart.set_data(data(20))
    assert cpu_chart.sample_count() == 20
    assert len(curve.getOriginalDataset()[0]) == 20


def test_crosshair_reads_out_the_nearest_sample(cpu_chart):
    cpu_chart.set_data(data(10))
    cpu_chart.set_crosshair(T0 + 3 * 60 + 10)
    assert cpu_chart.values_at(T0 + 3 * 60 + 10) == {"cpu_percent": 3.0}
    assert "3.0 %" in cpu_chart.readout_text()
    cpu_chart.set_crosshair(float("nan"))
    assert "9.0 %" in cpu_chart.readout_text()  # back to the latest value


def test_a_live_append_keeps_the_read_out_where_the_crosshair_sits(cpu_chart):
    cpu_chart.set_data(data(10))
    cpu_chart.set_crosshair(T0 + 3 * 60)
    cpu_chart.set_data(data(11))  # the refresh appended a sample (value 10)
    assert "3.0 %" in cpu_chart.readout_text()
    cpu_chart.set_crosshair(float("nan"))
    assert "10.0 %" in cpu_chart.readout_text()


def test_no_read_out_far_from_any_sample(cpu_chart):
    cpu_chart.set_data(data(10))
    assert cpu_chart.values_at(T0 + 86400) is None


def test_network_chart_shows_rates_with_si_units(qtbot):
    chart = TelemetryChart(
        "Network",
        [CurveSpec("net_rx_rate", "In", "#16a085"), CurveSpec("net_tx_rate", "Out", "#c0392b")],
        unit="B/s",
    )
    qtbot.addWidget(chart)
    chart.set_data(data(5))
    assert chart.values_at(T0 + 120) == {"net_rx_rate": 100.0, "net_tx_rate": 10.0}
    assert "100 B/s" in chart.readout_text()
    assert chart.plot_item.getAxis("left").tickStrings([2000.0], 1, 1000) == ["2 kB/s"]
