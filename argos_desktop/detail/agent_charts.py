"""An agent's telemetry charts with time-range presets, live append and export."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.alert_dto import AlertInfo, RuleInfo
from argos_core.services.dto import TelemetrySeries
from argos_desktop.alerts.chart_marks import chart_marks
from argos_desktop.charts.chart_specs import AGENT_CHARTS, ChartSpec
from argos_desktop.charts.series import ChartData, bucket_average
from argos_desktop.charts.telemetry_chart import TelemetryChart
from argos_desktop.charts.time_range import DEFAULT_PRESET, PRESETS, TimeRange, plan_query
from argos_desktop.detail.custom_range_dialog import CustomRangeDialog
from argos_desktop.detail.widgets import caption_label
from argos_desktop.workers import Requests

# (start, end, max_points) -> the agent's samples; bound to one agent by the caller.
TelemetryFetch = Callable[[int, int, int], TelemetrySeries]
# The service answers at most this many raw points; a longer live tail is re-read whole.
TAIL_MAX_POINTS = 20_000
CHANNEL = "telemetry"
DETAIL_CHANNEL = "telemetry-detail"
# After the user stops zooming or panning for this long, finer samples are fetched.
DETAIL_DELAY_MS = 250


def _resolution(data: ChartData) -> str:
    if data.resolution == "hourly":
        hours = max(1, data.bucket_s // 3600)
        every = "hourly" if hours == 1 else f"{hours} h"
        return f"{every} rollups (average, min-max band)"
    if not data.bucket_s or data.step() > data.bucket_s:
        return "raw samples"
    seconds = data.bucket_s
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h averages"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min averages"
    return f"{seconds} s averages"


class AgentCharts(QWidget):
    """CPU, memory, disk, network and load of one agent, x-linked, with a shared crosshair.

    ``dataShown`` fires once a full load has been drawn; ``samplesAppended(n)`` after a live
    refresh added ``n`` samples. The user's zoom is kept across refreshes: a "last …" range
    keeps following the clock only until the user zooms or pans (``Reset zoom`` resumes it).

    The whole range is loaded at plot-width resolution (the *overview*). Zooming into part
    of it fetches that part again at plot-width resolution (the *detail*, ``detailShown``),
    so hourly averages of a month turn into minutes when the user zooms into an afternoon.
    """

    dataShown = Signal()
    exported = Signal(str)  # the path written
    export_folder = ""  # where the last export went, for the next one (this run)
    detailShown = Signal()
    samplesAppended = Signal(int)
    loadFailed = Signal(str)

    def __init__(
        self,
        requests: Requests,
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
        *,
        specs: tuple[ChartSpec, ...] = AGENT_CHARTS,
    ) -> None:
        super().__init__(parent)
        self._specs = specs
        self._requests = requests
        self._clock = clock
        self._fetch: TelemetryFetch | None = None
        self._range = TimeRange.preset(DEFAULT_PRESET)
        self._data = ChartData()
        self._detail: ChartData | None = None
        self._displayed = self._data
        self._window: tuple[int, int] = (0, 0)
        self._follow = True
        self.last_query: tuple[int, int, int] | None = None
        self.subject = "agent"  # the hostname, for export file names and the PNG's title
        # Device pixels the plots will get, for loads started before the charts are laid out.
        self.width_hint = 0.0

        self.charts: dict[str, TelemetryChart] = {}
        for spec in specs:
            chart = TelemetryChart(
                spec.title,
                list(spec.curves),
                unit=spec.unit,
                percent=spec.percent,
                precision=spec.precision,
            )
            chart.hovered.connect(self._on_hover)
            chart.plot_item.getViewBox().sigRangeChangedManually.connect(self._user_zoomed)
            self.charts[spec.key] = chart
        first = next(iter(self.charts.values()))
        for chart in list(self.charts.values())[1:]:
            chart.link_x_to(first)
        self.detail_timer = QTimer(self)
        self.detail_timer.setSingleShot(True)
        self.detail_timer.setInterval(DETAIL_DELAY_MS)
        self.detail_timer.timeout.connect(self.update_detail)
        first.plot_item.getViewBox().sigXRangeChanged.connect(
            lambda *_: self.detail_timer.start() if not self._follow else None
        )

        self.preset_group = QButtonGroup(self)
        self.preset_group.setExclusive(True)
        self.preset_buttons: dict[str, QToolButton] = {}
        bar = QHBoxLayout()
        bar.setSpacing(2)
        for label, _span in PRESETS:
            button = self._tool_button(label, checkable=True)
            button.setToolTip(f"Show the last {label} and keep following new samples")
            button.clicked.connect(
                lambda _=False, lab=label: self.set_time_range(TimeRange.preset(lab))
            )
            self.preset_group.addButton(button)
            self.preset_buttons[label] = button
            bar.addWidget(button)
        self.custom_button = self._tool_button("Custom…", checkable=True)
        self.custom_button.setToolTip("Show a fixed range of your choice")
        self.custom_button.clicked.connect(self.choose_custom_range)
        self.preset_group.addButton(self.custom_button)
        bar.addWidget(self.custom_button)
        bar.addSpacing(12)
        self.reset_zoom_button = self._tool_button("Reset zoom")
        self.reset_zoom_button.setToolTip("Back to the whole range (drag to pan, wheel to zoom)")
        self.reset_zoom_button.clicked.connect(self.reset_zoom)
        bar.addWidget(self.reset_zoom_button)
        bar.addStretch(1)
        self.export_button = self._tool_button("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        self.csv_action = export_menu.addAction("Samples in view as CSV…")
        self.csv_action.triggered.connect(self._ask_csv_path)
        self.png_action = export_menu.addAction("Charts as PNG picture…")
        self.png_action.triggered.connect(self._ask_png_path)
        self.export_button.setMenu(export_menu)
        # A line of its own below the buttons: what is shown, the time under the cursor, export.
        status = QHBoxLayout()
        status.setSpacing(12)
        self.info_label = caption_label()
        # Status texts may be cut short rather than make the pane wider.
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        status.addWidget(self.info_label, 1)
        self.cursor_label = QLabel()
        self.cursor_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        status.addWidget(self.cursor_label)
        status.addWidget(self.export_button)

        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.hide()

        self.charts_widget = QWidget()
        charts_layout = QVBoxLayout(self.charts_widget)
        charts_layout.setContentsMargins(0, 0, 0, 0)
        charts_layout.setSpacing(6)
        for chart in self.charts.values():
            charts_layout.addWidget(chart)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.charts_widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addLayout(status)
        layout.addWidget(self.message)
        layout.addWidget(self.scroll, 1)
        self._check_range_button()
        self._update_buttons()

    @staticmethod
    def _tool_button(text: str, *, checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setCheckable(checkable)
        button.setAutoRaise(False)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    # --- what to show ----------------------------------------------------------------------

    @property
    def data(self) -> ChartData:
        """The whole range, at the resolution it was loaded with."""
        return self._data

    @property
    def displayed(self) -> ChartData:
        """What the charts draw now: the detail of a zoomed-in part, or the whole range."""
        return self._displayed

    @property
    def window(self) -> tuple[int, int]:
        """The range the last full load asked for (Unix seconds)."""
        return self._window

    @property
    def time_range(self) -> TimeRange:
        return self._range

    @property
    def following(self) -> bool:
        return self._follow

    def set_source(self, fetch: TelemetryFetch | None) -> None:
        """Chart the agent ``fetch`` reads (``None`` empties the charts)."""
        self._requests.cancel(CHANNEL, DETAIL_CHANNEL)
        self._fetch = fetch
        self._show_data(ChartData())
        if fetch is not None:
            self.reload()

    def set_time_range(self, time_range: TimeRange) -> None:
        self._range = time_range
        self._follow = True
        self._check_range_button()
        self.reload()

    def choose_custom_range(self) -> None:
        start, end = self._range.bounds(self._clock())
        dialog = CustomRangeDialog(start, end, self)
        if dialog.exec() == CustomRangeDialog.DialogCode.Accepted:
            self.set_time_range(dialog.time_range())
        else:
            self._check_range_button()

    def reset_zoom(self) -> None:
        self._follow = True
        self._drop_detail()
        self._apply_window()

    def plot_width(self) -> float:
        chart = next(iter(self.charts.values()))
        vb = chart.plot_item.getViewBox()
        if chart.isVisible() and vb.width() > 0:
            return vb.width() * chart.devicePixelRatioF()
        return self.width_hint or 600.0

    def set_alert_marks(self, rules: Sequence[RuleInfo], alerts: Sequence[AlertInfo]) -> None:
        """Draw the rules' thresholds and the open alerts' spans (empty lists: none)."""
        marks = chart_marks(self._specs, rules, alerts, self._clock())
        for key, chart in self.charts.items():
            chart.set_marks(marks[key].thresholds, marks[key].spans)

    # --- loading ---------------------------------------------------------------------------

    def chart_data(self, series: TelemetrySeries, known_until: int) -> ChartData:
        """What ``fetch`` answered, as arrays for the charts."""
        return ChartData.from_series(series, known_until=known_until)

    def resolution_text(self, data: ChartData) -> str:
        return _resolution(data)

    def reload(self) -> None:
        """Read the whole range again, at most one point per pixel of plot width."""
        fetch = self._fetch
        if fetch is None:
            return
        shown = self._range.bounds(self._clock())
        start, end, max_points = plan_query(*shown, self.plot_width())
        self.last_query = (start, end, max_points)
        self._window = shown
        self._requests.cancel(DETAIL_CHANNEL)
        self._detail = None
        self.info_label.setText("Loading…")

        def load() -> ChartData:
            # The query may be widened to whole buckets; show only the range asked for.
            series = fetch(start, end, max_points)
            return self.chart_data(series, shown[1]).between(*shown)

        self._requests.run(CHANNEL, load, self._loaded, self._failed)

    def refresh(self) -> None:
        """Live refresh: on a "last …" range, append the samples that arrived since."""
        fetch = self._fetch
        if fetch is None or not self._range.live or self._requests.is_pending(CHANNEL):
            return
        last = self._data.last_ts
        now = self._clock()
        keep_from, end = self._range.bounds(now)
        bucket = self._data.bucket_s
        if self._data.resolution == "hourly":
            # Rollups are re-read whole (a few hundred points) once a new bucket begins.
            if last is None or end - last > bucket:
                self.reload()
            return
        if last is None or end - last > TAIL_MAX_POINTS:
            self.reload()
            return
        # A bucketed series re-reads its last (partial) bucket and averages like the database.
        tail_start = last if bucket else last + 1
        if end <= tail_start:
            return

        def load() -> ChartData:
            tail = ChartData.from_series(fetch(tail_start, end, TAIL_MAX_POINTS))
            return bucket_average(tail, bucket) if bucket else tail

        def appended(tail: ChartData) -> None:
            added = self._data.merge_tail(tail, keep_from)
            self._window = (keep_from, end)
            self.message.hide()
            self._show_data(self._data)
            self.samplesAppended.emit(added)

        self._requests.run(CHANNEL, load, appended, self._failed)

    def _loaded(self, data: ChartData) -> None:
        self.message.hide()
        self.scroll.show()
        self._show_data(data)
        self.dataShown.emit()

    def _failed(self, exc: BaseException) -> None:
        text = str(exc) or type(exc).__name__
        self.info_label.setText("")
        self.message.setText(f"The telemetry could not be loaded.\n{text}")
        self.message.show()
        self.loadFailed.emit(text)

    def _show_data(self, data: ChartData) -> None:
        self._data = data
        if self._follow:
            self._detail = None
        self._display()
        self._apply_window()

    def _display(self) -> None:
        """Draw the detail when it covers the view, else the whole range."""
        data = self._detail if self._detail is not None else self._data
        self._displayed = data
        for chart in self.charts.values():
            chart.set_data(data)
        if len(data):
            zoomed = " (zoomed in)" if data is self._detail else ""
            self.info_label.setText(f"{len(data):,} points · {self.resolution_text(data)}{zoomed}")
        elif self._fetch is not None and self.last_query is not None:
            self.info_label.setText("No telemetry in this range.")
        else:
            self.info_label.setText("")
        self._update_buttons()

    def _drop_detail(self) -> None:
        self._requests.cancel(DETAIL_CHANNEL)
        if self._detail is not None:
            self._detail = None
            self._display()

    def view_range(self) -> tuple[float, float]:
        chart = next(iter(self.charts.values()))
        (x0, x1), _ = chart.plot_item.getViewBox().viewRange()
        return float(x0), float(x1)

    def update_detail(self) -> None:
        """After a zoom or pan: fetch the part in view at full resolution, or fall back to
        the whole range when that is fine enough (or the view left the detail)."""
        fetch = self._fetch
        if fetch is None or self._follow or not len(self._data) or not self._data.bucket_s:
            return
        x0, x1 = self.view_range()
        w0, w1 = self._window
        x0, x1 = max(x0, w0), min(x1, w1)
        if x1 - x0 < 60:
            return
        start, end, max_points = plan_query(int(x0), int(x1) + 1, self.plot_width())
        wanted = -(-(end - start) // max_points) if end - start > max_points else 0
        detail = self._detail
        covers = detail is not None and detail.start <= x0 and x1 <= detail.end
        if covers and (not detail.bucket_s or detail.bucket_s <= 2 * max(wanted, 1)):
            return
        if self._data.bucket_s <= 2 * max(wanted, 1):
            self._drop_detail()
            return
        # Fetch a margin of half a view on each side, so a little panning stays sharp.
        margin = (x1 - x0) / 2
        lo, hi = int(max(w0, x0 - margin)), int(min(w1, x1 + margin)) + 1
        start, end, max_points = plan_query(lo, hi, self.plot_width() * (hi - lo) / (x1 - x0))

        def load() -> ChartData:
            series = fetch(start, end, max_points)
            detail = self.chart_data(series, min(hi, w1)).between(lo, hi)
            detail.start, detail.end = lo, hi
            return detail

        def loaded(detail: ChartData) -> None:
            if self._follow:
                return
            self._detail = detail
            self._display()
            self.detailShown.emit()

        self._requests.run(DETAIL_CHANNEL, load, loaded, self._failed)

    def _apply_window(self) -> None:
        start, end = self._window
        if self._follow and end > start:
            for chart in self.charts.values():
                chart.set_x_range(start, end)
        self.reset_zoom_button.setEnabled(not self._follow)

    # --- interaction -----------------------------------------------------------------------

    def _user_zoomed(self) -> None:
        self._follow = False
        self.reset_zoom_button.setEnabled(True)
        self.detail_timer.start()

    def _on_hover(self, x: float) -> None:
        for chart in self.charts.values():
            chart.set_crosshair(x)
        if np.isnan(x):
            self.cursor_label.setText("")
        else:
            self.cursor_label.setText(datetime.fromtimestamp(x).strftime("%a %Y-%m-%d %H:%M:%S"))

    def _check_range_button(self) -> None:
        button = (
            self.custom_button
            if not self._range.live
            else self.preset_buttons.get(self._range.label)
        )
        if button is not None:
            button.setChecked(True)
        if not self._range.live:
            start, end = self._range.bounds(0)
            fmt = "%Y-%m-%d %H:%M"
            self.custom_button.setToolTip(
                f"{datetime.fromtimestamp(start):{fmt}} to {datetime.fromtimestamp(end):{fmt}}"
            )

    def _update_buttons(self) -> None:
        has_data = len(self._data) > 0
        self.csv_action.setEnabled(has_data)
        self.png_action.setEnabled(has_data)

    # --- export ----------------------------------------------------------------------------

    def visible_data(self) -> ChartData:
        """The samples drawn inside the charts' current x range."""
        x0, x1 = self.view_range()
        return self._displayed.between(x0, np.nextafter(x1, np.inf))

    def export_csv(self, path: str | Path) -> int:
        """Write the samples in view to ``path``; returns how many rows were written."""
        data = self.visible_data()
        columns = [curve.column for spec in self._specs for curve in spec.curves]
        Path(path).write_text(data.to_csv(columns), encoding="utf-8")
        return len(data)

    def export_title(self) -> str:
        """``web-01 · 2026-11-30 12:00 to 13:00``: whose charts, and the range in view."""
        x0, x1 = (datetime.fromtimestamp(x) for x in self.view_range())
        end = f"{x1:%H:%M}" if x1.date() == x0.date() else f"{x1:%Y-%m-%d %H:%M}"
        return f"{self.subject} · {x0:%Y-%m-%d %H:%M} to {end}"

    def export_png(self, path: str | Path) -> bool:
        """The charts under a line naming the agent and the range, as a PNG file."""
        charts = self.charts_widget.grab()
        header = self.fontMetrics().height() * 2
        image = QPixmap(charts.width(), charts.height() + header)
        image.setDevicePixelRatio(charts.devicePixelRatio())
        image.fill(self.palette().color(QPalette.ColorRole.Window))
        painter = QPainter(image)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        width = int(charts.width() / charts.devicePixelRatio())
        painter.drawText(
            QRect(8, 0, width - 16, header),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            self.export_title(),
        )
        painter.drawPixmap(0, header, charts)
        painter.end()
        return image.save(str(path), "PNG")

    def suggested_path(self, suffix: str) -> str:
        """In the folder used last (else Documents): hostname, range start and kind."""
        start = datetime.fromtimestamp(self.view_range()[0])
        name = f"{self.subject}-telemetry-{start:%Y%m%d-%H%M}.{suffix}"
        return str(Path(AgentCharts.export_folder or _documents()) / name)

    def _ask_csv_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export CSV", self.suggested_path("csv"), "CSV (*.csv)"
        )
        if path:
            try:
                rows = self.export_csv(path)
            except OSError as exc:
                QMessageBox.warning(self, "Export CSV", f"Could not write {path}: {exc.strerror}")
                return
            self._exported(path, f"Saved {rows:,} samples to {path}")

    def _ask_png_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export PNG", self.suggested_path("png"), "PNG (*.png)"
        )
        if not path:
            return
        if not self.export_png(path):
            QMessageBox.warning(self, "Export PNG", f"Could not write {path}.")
            return
        self._exported(path, f"Saved the charts to {path}")

    def _exported(self, path: str, said: str) -> None:
        AgentCharts.export_folder = str(Path(path).parent)
        self.info_label.setText(said)
        self.info_label.setToolTip(said)
        self.exported.emit(path)


def _documents() -> str:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return folder or str(Path.home())
