"""One time-series chart: a pyqtgraph ``PlotWidget`` with a local-time ``DateAxisItem``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (
    DAY_SPACING,
    MONTH_SPACING,
    TickSpec,
    ZoomLevel,
    makeMStepper,
    makeSStepper,
)
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from argos_desktop.charts.marks import SpanMark, ThresholdMark
from argos_desktop.charts.series import ChartData, with_gaps


@dataclass(frozen=True)
class CurveSpec:
    column: str
    label: str
    color: str


class TelemetryChart(QWidget):
    """Curves of some ``ChartData`` columns against time (x = Unix seconds, local time).

    Curves are created once and updated with ``setData``; long series are clipped to the
    view and peak-downsampled to the plot width by pyqtgraph. ``hovered`` reports the time
    under the mouse (``nan`` when it leaves) so a panel can move every chart's crosshair.
    """

    hovered = Signal(float)

    def __init__(
        self,
        title: str,
        curves: list[CurveSpec],
        *,
        unit: str = "",
        percent: bool = False,
        precision: int = 1,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._specs = curves
        self._unit = unit
        self._percent = percent
        self._precision = precision
        self._data = ChartData()

        self._title = QLabel(title)
        self._title.setObjectName("chartTitle")
        font = self._title.font()
        font.setBold(True)
        self._title.setFont(font)
        self._readout = QLabel()
        self._readout.setObjectName("chartReadout")
        self._readout.setTextFormat(Qt.TextFormat.RichText)
        self._readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.plot_widget = pg.PlotWidget(
            axisItems={
                "bottom": LocalDateAxis(orientation="bottom"),
                "left": UnitAxis(orientation="left", unit=unit, percent=percent),
            }
        )
        self.plot_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot_widget.setMinimumHeight(110)
        item = self.plot_item
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.showGrid(x=False, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.getAxis("left").setWidth(64)
        vb = item.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.setLimits(minXRange=120)
        if percent:
            item.setYRange(0, 100, padding=0.02)
        else:
            vb.enableAutoRange(axis=pg.ViewBox.YAxis)
            vb.setAutoVisible(y=True)

        self._curves: dict[str, pg.PlotDataItem] = {}
        for i, spec in enumerate(curves):
            color = QColor(spec.color)
            fill = QColor(color)
            # Only the first curve is filled: overlapping fills turn muddy.
            fill.setAlpha(40 if i == 0 else 0)
            self._curves[spec.column] = item.plot(
                [],
                [],
                name=spec.label,
                pen=pg.mkPen(color, width=1.5),
                fillLevel=0,
                fillBrush=fill,
                connect="finite",
            )
        # Rollups: each bucket's minimum-maximum band, drawn behind the first curve.
        self._band_low = pg.PlotDataItem([], [], pen=None)
        self._band_high = pg.PlotDataItem([], [], pen=None)
        band = QColor(curves[0].color)
        band.setAlpha(60)
        self.band = pg.FillBetweenItem(self._band_low, self._band_high, brush=band)
        self.band.setZValue(-5)
        item.addItem(self.band)
        self._crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", width=1))
        self._crosshair.setZValue(10)
        self._crosshair.hide()
        item.addItem(self._crosshair, ignoreBounds=True)

        # Marks are pooled, never removed: a dropped Qt graphics item is finalized by the
        # cyclic GC whenever it runs, even mid-paint, which crashed a CI run (pyqtgraph #1628).
        self._line_pool: list[pg.InfiniteLine] = []
        self._region_pool: list[pg.LinearRegionItem] = []
        self._lines_used = 0
        self._regions_used = 0

        self._mouse_proxy = pg.SignalProxy(
            self.plot_widget.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )
        self._leave_filter = _LeaveFilter(self.plot_widget, lambda: self.hovered.emit(float("nan")))

        header = QHBoxLayout()
        header.setContentsMargins(6, 0, 6, 0)
        header.addWidget(self._title)
        header.addStretch(1)
        header.addWidget(self._readout)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget)
        self.apply_palette()
        self._show_readout(None)

    # --- data ------------------------------------------------------------------------------

    @property
    def plot_item(self) -> pg.PlotItem:
        return self.plot_widget.getPlotItem()

    def set_data(self, data: ChartData) -> None:
        self._data = data
        step = data.step()
        for spec in self._specs:
            # An empty ChartData() has the agent columns only.
            y = data.values.get(spec.column, np.full(data.ts.shape, np.nan))
            x, y = with_gaps(data.ts, y, step)
            self._curves[spec.column].setData(x, y, connect="finite")
        column = self._specs[0].column
        if data.resolution == "hourly" and column in data.low:
            low, high = data.low[column], data.high[column]
            known = np.isfinite(low) & np.isfinite(high)
            self._band_low.setData(data.ts[known], low[known])
            self._band_high.setData(data.ts[known], high[known])
            self.band.show()
        else:
            self._band_low.setData([], [])
            self._band_high.setData([], [])
            self.band.hide()
        # New samples do not move the read-out away from where the crosshair sits.
        self._show_readout(self._crosshair.value() if self._crosshair.isVisible() else None)

    def sample_count(self) -> int:
        """Samples behind the curves (gap markers not counted)."""
        return len(self._data)

    def curve(self, column: str) -> pg.PlotDataItem:
        return self._curves[column]

    def set_x_range(self, start: float, end: float) -> None:
        self.plot_item.setXRange(start, end, padding=0)

    def link_x_to(self, other: TelemetryChart) -> None:
        self.plot_item.setXLink(other.plot_item)

    # --- alert marks -----------------------------------------------------------------------

    @property
    def threshold_lines(self) -> list[pg.InfiniteLine]:
        """The threshold lines drawn now (the used, visible part of the pool)."""
        return self._line_pool[: self._lines_used]

    @property
    def alert_regions(self) -> list[pg.LinearRegionItem]:
        """The shaded spans drawn now (the used, visible part of the pool)."""
        return self._region_pool[: self._regions_used]

    def set_marks(
        self,
        thresholds: Sequence[ThresholdMark],
        spans: Sequence[SpanMark],
    ) -> None:
        """Dashed threshold lines and shaded spans, replacing those drawn before; spans leave
        the x-range alone, lines widen the y-range of a chart without a fixed one.

        The items are reused and spare ones hidden, never removed from the plot (see
        ``__init__``); hidden items do not count in the view box's auto-range."""
        item = self.plot_item
        while len(self._line_pool) < len(thresholds):
            line = pg.InfiniteLine(
                angle=0,
                movable=False,
                label="",
                labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)]},
            )
            line.setZValue(5)
            line.hide()
            item.addItem(line)
            self._line_pool.append(line)
        for line, mark in zip(self._line_pool, thresholds, strict=False):
            # Shown first: a hidden line's label ignores new values and formats.
            line.show()
            line.setValue(mark.value)
            line.setPen(pg.mkPen(mark.color, width=1.5, style=Qt.PenStyle.DashLine))
            line.label.setColor(mark.color)
            line.label.setFormat(mark.label)
            line.setToolTip(mark.label)
        for line in self._line_pool[len(thresholds) :]:
            line.hide()
        self._lines_used = len(thresholds)

        while len(self._region_pool) < len(spans):
            region = pg.LinearRegionItem(movable=False, pen=pg.mkPen(None))
            region.setZValue(-10)
            region.hide()
            item.addItem(region, ignoreBounds=True)
            self._region_pool.append(region)
        for region, span in zip(self._region_pool, spans, strict=False):
            shade = QColor(span.color)
            shade.setAlpha(45)
            region.setRegion((span.start, span.end))
            region.setBrush(shade)
            region.setToolTip(span.label)
            region.show()
            region.update()  # setBrush does not repaint
        for region in self._region_pool[len(spans) :]:
            region.hide()
        self._regions_used = len(spans)
        # Showing and hiding items does not tell the view box to range again (adding and
        # removing did).
        item.getViewBox().queueUpdateAutoRange()

    # --- crosshair -------------------------------------------------------------------------

    def set_crosshair(self, x: float) -> None:
        if np.isnan(x):
            self._crosshair.hide()
            self._show_readout(None)
            return
        self._crosshair.setPos(x)
        self._crosshair.show()
        self._show_readout(x)

    def values_at(self, x: float) -> dict[str, float] | None:
        """The sample nearest to ``x`` (within one and a half steps), per column."""
        ts = self._data.ts
        if ts.size == 0:
            return None
        i = int(np.clip(np.searchsorted(ts, x), 1, ts.size - 1)) if ts.size > 1 else 0
        if ts.size > 1 and abs(ts[i - 1] - x) < abs(ts[i] - x):
            i -= 1
        if abs(ts[i] - x) > 1.5 * self._data.step():
            return None
        return {s.column: float(self._data.values[s.column][i]) for s in self._specs}

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        vb = self.plot_item.getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            self.hovered.emit(float("nan"))
            return
        self.hovered.emit(float(vb.mapSceneToView(pos).x()))

    def _show_readout(self, x: float | None) -> None:
        """Values at the crosshair, or the latest values when the mouse is elsewhere."""
        values = self.values_at(x) if x is not None else self._latest()
        parts = []
        for spec in self._specs:
            v = values.get(spec.column) if values else None
            text = "-" if v is None or not np.isfinite(v) else self.format_value(v)
            parts.append(f"<span style='color:{spec.color}'>■</span> {spec.label} <b>{text}</b>")
        self._readout.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def _latest(self) -> dict[str, float] | None:
        if not len(self._data):
            return None
        out = {}
        for spec in self._specs:
            col = self._data.values[spec.column]
            finite = np.nonzero(np.isfinite(col))[0]
            out[spec.column] = float(col[finite[-1]]) if finite.size else float("nan")
        return out

    def format_value(self, v: float) -> str:
        if self._percent:
            return f"{v:.{self._precision}f} %"
        if self._unit:
            return pg.siFormat(v, precision=3, suffix=self._unit)
        return f"{v:.{self._precision}f}"

    def readout_text(self) -> str:
        return self._readout.text()

    # --- look ------------------------------------------------------------------------------

    def apply_palette(self) -> None:
        """Follow the application palette (light or dark) instead of pyqtgraph's black."""
        pal = self.palette()
        self.plot_widget.setBackground(pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        axis_color = QColor(text)
        axis_color.setAlpha(170)
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen(axis_color))
            axis.setTextPen(pg.mkPen(axis_color))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()
        super().changeEvent(event)


# Over several days pyqtgraph labels days by number alone ("20"); add the weekday.
_MONTH_DAY_ZOOM_LEVEL = ZoomLevel(
    [
        TickSpec(MONTH_SPACING, makeMStepper(1), "%b"),
        TickSpec(DAY_SPACING, makeSStepper(DAY_SPACING), "%a %d", autoSkip=[1, 2, 7]),
    ],
    "Wed 00",
)


class LocalDateAxis(pg.DateAxisItem):
    """Unix seconds shown in the local time zone, days labelled with their weekday."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.zoomLevels = type(self.zoomLevels)(
            (spacing, _MONTH_DAY_ZOOM_LEVEL if spacing == 5 * 86400 else level)
            for spacing, level in self.zoomLevels.items()
        )


class UnitAxis(pg.AxisItem):
    """A value axis whose tick labels carry their unit ("20 %", "1.5 kB/s")."""

    def __init__(self, *, unit: str = "", percent: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self._unit = unit
        self._percent = percent

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self._percent:
            return [f"{v:g} %" for v in values]
        if self._unit:
            return [pg.siFormat(v, precision=3, suffix=self._unit) for v in values]
        return super().tickStrings(values, scale, spacing)


class _LeaveFilter(QObject):
    """Calls back when the mouse leaves the watched widget."""

    def __init__(self, watched: QWidget, on_leave) -> None:
        super().__init__(watched)
        self._on_leave = on_leave
        watched.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self._on_leave()
        return False
