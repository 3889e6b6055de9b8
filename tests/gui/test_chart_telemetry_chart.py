"""The reusable TelemetryChart widget: curves, date axis, crosshair read-out."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from argos_core.services.dto import METRICS, TelemetrySeries
from argos_desktop.charts.marks import SpanMark, ThresholdMark
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


def drawn_lines(chart: TelemetryChart) -> list[tuple[float, str, Qt.PenStyle, str, str, str]]:
    return [
        (
            line.value(),
            line.pen.color().name(),
            line.pen.style(),
            line.label.toPlainText(),
            line.label.color.name(),
            line.toolTip(),
        )
        for line in chart.threshold_lines
    ]


def drawn_spans(chart: TelemetryChart) -> list[tuple[float, float, str, int, str]]:
    return [
        (
            *region.getRegion(),
            region.brush.color().name(),
            region.brush.color().alpha(),
            region.toolTip(),
        )
        for region in chart.alert_regions
    ]


def painted_y_range(chart: TelemetryChart) -> list[float]:
    """The y-range once the chart has been painted (pyqtgraph ranges again before a paint)."""
    chart.plot_widget.grab()
    return chart.plot_item.getViewBox().viewRange()[1]


def test_marks_reuse_their_items_hide_the_spare_ones_and_draw_exactly_the_marks(cpu_chart):
    """Removed graphics items were left to the cyclic GC, which once finalized them in the
    middle of a paint and crashed CI: a chart keeps its mark items and hides spare ones."""
    scene = cpu_chart.plot_widget.scene()
    vb = cpu_chart.plot_item.getViewBox()
    dash = Qt.PenStyle.DashLine
    three = [
        ThresholdMark(90.0, "#d62728", "critical: cpu above 90"),
        ThresholdMark(80.0, "#ff7f0e", "warning: cpu above 80"),
        ThresholdMark(70.0, "#1f77b4", "info: cpu above 70"),
    ]
    two_spans = [
        SpanMark(T0, T0 + 600, "#d62728", "critical: cpu above 90"),
        SpanMark(T0 + 900, T0 + 1200, "#ff7f0e", "warning: offline"),
    ]
    three_drawn = [
        (90.0, "#d62728", dash, "critical: cpu above 90", "#d62728", "critical: cpu above 90"),
        (80.0, "#ff7f0e", dash, "warning: cpu above 80", "#ff7f0e", "warning: cpu above 80"),
        (70.0, "#1f77b4", dash, "info: cpu above 70", "#1f77b4", "info: cpu above 70"),
    ]
    two_spans_drawn = [
        (T0, T0 + 600, "#d62728", 45, "critical: cpu above 90"),
        (T0 + 900, T0 + 1200, "#ff7f0e", 45, "warning: offline"),
    ]
    cpu_chart.set_marks(three, two_spans)
    assert drawn_lines(cpu_chart) == three_drawn
    assert drawn_spans(cpu_chart) == two_spans_drawn
    lines, regions = list(cpu_chart.threshold_lines), list(cpu_chart.alert_regions)
    items, added = len(scene.items()), len(vb.addedItems)

    cpu_chart.set_marks([ThresholdMark(95.0, "#ff7f0e", "warning: cpu above 95")], [])
    assert drawn_lines(cpu_chart) == [
        (95.0, "#ff7f0e", dash, "warning: cpu above 95", "#ff7f0e", "warning: cpu above 95")
    ]
    assert cpu_chart.alert_regions == []
    assert cpu_chart.threshold_lines[0] is lines[0]
    assert [line.isVisible() for line in lines] == [True, False, False]
    assert [region.isVisible() for region in regions] == [False, False]

    cpu_chart.set_marks([], [])
    assert cpu_chart.threshold_lines == [] and cpu_chart.alert_regions == []
    assert not any(item.isVisible() for item in (*lines, *regions))

    cpu_chart.set_marks(
        [ThresholdMark(60.0, "#2ca02c", "info: cpu above 60"), *three[:1]],
        [SpanMark(T0 + 60, T0 + 120, "#1f77b4", "info: overdue")],
    )
    assert drawn_lines(cpu_chart) == [
        (60.0, "#2ca02c", dash, "info: cpu above 60", "#2ca02c", "info: cpu above 60"),
        (90.0, "#d62728", dash, "critical: cpu above 90", "#d62728", "critical: cpu above 90"),
    ]
    assert drawn_spans(cpu_chart) == [(T0 + 60, T0 + 120, "#1f77b4", 45, "info: overdue")]
    assert cpu_chart.threshold_lines == lines[:2] and cpu_chart.alert_regions == regions[:1]
    assert [line.isVisible() for line in lines] == [True, True, False]
    assert [region.isVisible() for region in regions] == [True, False]

    cpu_chart.set_marks(three, two_spans)
    assert cpu_chart.threshold_lines == lines and cpu_chart.alert_regions == regions
    assert drawn_lines(cpu_chart) == three_drawn
    assert drawn_spans(cpu_chart) == two_spans_drawn
    # Nothing was taken off the plot or added to it after the first marks.
    assert all(item.scene() is scene for item in (*lines, *regions))
    assert len(scene.items()) == items and len(vb.addedItems) == added


def test_hidden_spare_lines_do_not_widen_the_y_range(qtbot):
    chart = TelemetryChart("Network", [CurveSpec("net_rx_rate", "In", "#16a085")], unit="B/s")
    qtbot.addWidget(chart)
    chart.resize(800, 200)
    chart.set_data(data(5))  # 100 B/s
    assert painted_y_range(chart)[1] < 1000

    far = [ThresholdMark(1e6, "#d62728", "critical"), ThresholdMark(5e5, "#ff7f0e", "warning")]
    chart.set_marks(far, [])
    assert painted_y_range(chart)[1] >= 1e6
    chart.set_marks([ThresholdMark(500.0, "#ff7f0e", "warning")], [])
    assert 500 <= painted_y_range(chart)[1] < 1000
    chart.set_marks([], [])
    assert painted_y_range(chart)[1] < 500
    chart.set_marks(far, [])
    assert painted_y_range(chart)[1] >= 1e6
