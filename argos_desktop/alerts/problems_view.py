"""The problems list: open alerts (or the resolved history) of the signed-in scope, with
filters, and acknowledgement with a comment from the list, until the alert resolves or for a
while (then it is open again and notified as such)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.alert_dto import AlertInfo
from argos_desktop.admin.record_table_model import RECORD_ROLE, RecordTableModel
from argos_desktop.alerts.alert_watch import AlertWatch
from argos_desktop.alerts.problem_columns import COLUMNS, SINCE, local_time
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

HISTORY_LIMIT = 500
SEVERITIES = (("All severities", None), ("Warning", "warning"), ("Critical", "critical"))
ACK_SPANS = (
    ("until it resolves", None),
    ("for 1 hour", timedelta(hours=1)),
    ("for 4 hours", timedelta(hours=4)),
    ("for 1 day", timedelta(days=1)),
    ("for 1 week", timedelta(weeks=1)),
)


class ProblemsView(QWidget):
    acknowledged = Signal(object)  # AlertInfo
    loaded = Signal()

    def __init__(
        self, session: ConsoleSession, watch: AlertWatch, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Problems — Argos")
        self._session = session
        self._watch = watch
        self.model: RecordTableModel[AlertInfo] = RecordTableModel(COLUMNS, self)
        self._loaded: list[AlertInfo] = []

        self.severity_box = QComboBox(objectName="problemSeverity")
        for label, value in SEVERITIES:
            self.severity_box.addItem(label, value)
        self.history_box = QCheckBox("Resolved (history)", objectName="problemHistory")
        self.filter_box = QLineEdit(objectName="problemFilter", placeholderText="Filter")
        self.table = QTableView(objectName="problemTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(SINCE, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.comment_box = QLineEdit(objectName="ackComment", placeholderText="Comment")
        self.ack_span_box = QComboBox(objectName="ackUntil")
        for label, span in ACK_SPANS:
            self.ack_span_box.addItem(label, span)
        self.ack_button = QPushButton("Acknowledge", objectName="ackButton")
        self.message = QLabel(objectName="problemMessage")

        filters = QHBoxLayout()
        for widget in (self.severity_box, self.history_box, self.filter_box):
            filters.addWidget(widget)
        ack = QHBoxLayout()
        ack.addWidget(self.comment_box, 1)
        ack.addWidget(self.ack_span_box)
        ack.addWidget(self.ack_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(ack)
        layout.addWidget(self.message)
        for widget in (self.comment_box, self.ack_span_box, self.ack_button):
            widget.setVisible(session.identity.can_write)

        self.severity_box.currentIndexChanged.connect(lambda _i: self.reload())
        self.history_box.toggled.connect(lambda _on: self.reload())
        self.filter_box.textChanged.connect(lambda _t: self._show(self._loaded))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.ack_button.clicked.connect(
            lambda: self.acknowledge_selected(
                self.comment_box.text(), self.ack_span_box.currentData()
            )
        )
        watch.changed.connect(self._watch_changed)
        self.reload()

    def severity(self) -> str | None:
        return self.severity_box.currentData()

    def reload(self) -> None:
        """Show the watch's open alerts, or read the history."""
        if not self.history_box.isChecked():
            self._show([a for a in self._watch.alerts if self._wanted(a)])
            return
        severity, backend = self.severity(), self._session.backend
        run_in_pool(
            lambda: backend.list_alerts(active=False, severity=severity, limit=HISTORY_LIMIT).items,
            self._show,
            self._failed,
            context=self,
        )

    def selected(self) -> AlertInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(RECORD_ROLE) if rows else None

    def acknowledge_selected(self, comment: str, span: timedelta | None = None) -> None:
        """Acknowledge the selected alert; with ``span``, for that long from now."""
        alert = self.selected()
        if alert is None or alert.state == "resolved":
            return
        backend = self._session.backend
        until = datetime.now(UTC) + span if span else None
        self.ack_button.setEnabled(False)
        run_in_pool(
            lambda: backend.acknowledge(alert.id, comment.strip(), until),
            self._acknowledged,
            self._failed,
            context=self,
        )

    def _acknowledged(self, alert: AlertInfo) -> None:
        self.comment_box.clear()
        self.ack_span_box.setCurrentIndex(0)
        until = f" until {local_time(alert.acked_until)}" if alert.acked_until else ""
        self.message.setText(f"Acknowledged{until}: {alert.hostname}, {alert.rule}")
        self.acknowledged.emit(alert)
        self._watch.refresh()

    def _wanted(self, alert: AlertInfo) -> bool:
        return self.severity() in (None, alert.severity)

    def _watch_changed(self) -> None:
        if not self.history_box.isChecked():
            self.reload()

    def _show(self, alerts: list[AlertInfo]) -> None:
        chosen = self.selected()
        self._loaded = alerts
        text = self.filter_box.text().strip().lower()
        self.model.set_rows(
            [a for a in alerts if not text or text in f"{a.hostname} {a.path} {a.rule}".lower()]
        )
        if chosen is not None:
            for row, alert in enumerate(self.model.records()):
                if alert.id == chosen.id:
                    self.table.selectRow(row)
        self._update_buttons()
        self.loaded.emit()

    def _failed(self, exc: Exception) -> None:
        self.message.setText(str(exc))
        self._update_buttons()

    def _update_buttons(self) -> None:
        alert = self.selected()
        self.ack_button.setEnabled(alert is not None and alert.state != "resolved")
