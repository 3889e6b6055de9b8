"""Pick a fixed time range for the charts."""

from __future__ import annotations

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QWidget,
)

from argos_desktop.charts.time_range import TimeRange

MAX_SPAN_S = 400 * 86400


class CustomRangeDialog(QDialog):
    def __init__(self, start: int, end: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Custom time range")
        self.start_edit = self._editor(start)
        self.end_edit = self._editor(end)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #d64545;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("From", self.start_edit)
        form.addRow("To", self.end_edit)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.start_edit.dateTimeChanged.connect(self._validate)
        self.end_edit.dateTimeChanged.connect(self._validate)
        self._validate()

    @staticmethod
    def _editor(ts: int) -> QDateTimeEdit:
        edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(ts)))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        return edit

    def time_range(self) -> TimeRange:
        return TimeRange.custom(
            self.start_edit.dateTime().toSecsSinceEpoch(),
            self.end_edit.dateTime().toSecsSinceEpoch(),
        )

    def _validate(self) -> None:
        start = self.start_edit.dateTime().toSecsSinceEpoch()
        end = self.end_edit.dateTime().toSecsSinceEpoch()
        problem = ""
        if end <= start:
            problem = "The end must come after the start."
        elif end - start > MAX_SPAN_S:
            problem = "A range may span at most 400 days."
        elif end - start < 300:
            problem = "Choose at least five minutes."
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
