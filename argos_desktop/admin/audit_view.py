"""The audit log: who changed what, when and from where, filtered, sorted and paged
server-side, scoped like everything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.dto import AuditEntry, Page
from argos_desktop import icons
from argos_desktop.admin.record_table_model import Column, RecordTableModel
from argos_desktop.admin.users_dialog import record_table
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

PAGE_SIZE = 100
FILTER_DELAY_MS = 300
ALL_ACTIONS = "All actions"
BETWEEN_DATES = "dates"
PERIODS: tuple[tuple[str, timedelta | str | None], ...] = (
    ("Any time", None),
    ("Last hour", timedelta(hours=1)),
    ("Last 24 hours", timedelta(days=1)),
    ("Last 7 days", timedelta(days=7)),
    ("Last 30 days", timedelta(days=30)),
    ("Between dates", BETWEEN_DATES),
)


def local_midnight(day: QDate) -> datetime:
    """The start of ``day`` on this computer's clock, as an aware datetime."""
    return datetime(day.year(), day.month(), day.day()).astimezone()


def _values(values: dict[str, Any] | None) -> str:
    if not values:
        return ""
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in values.items())


def change_text(entry: AuditEntry) -> str:
    before, after = _values(entry.before), _values(entry.after)
    if before and after:
        return f"{before} → {after}"
    return after or (f"was {before}" if before else "")


AUDIT_COLUMNS: list[Column[AuditEntry]] = [
    Column("When", lambda e: e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
    Column("Who", lambda e: e.actor),
    Column("Action", lambda e: e.action),
    Column("Target", lambda e: f"{e.target_kind} {e.target}"),
    Column("Change", change_text),
    Column("From", lambda e: e.source or "—"),
]
SORT_FIELDS = ("at", "actor", "action", "target", None, "source")


class AuditLogDialog(QDialog):
    loaded = Signal()
    failed = Signal(str)

    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Audit log")
        self.resize(1100, 620)
        self.offset = 0
        self.total = 0
        self.sort_by = "at"
        self.descending = True
        self._generation = 0

        self.action_box = QComboBox()
        self.action_box.setAccessibleName("Action")
        self.action_box.addItem(ALL_ACTIONS, None)
        self.text_edit = QLineEdit(placeholderText="Who or target contains…")
        self.text_edit.setClearButtonEnabled(True)
        self.text_edit.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.text_edit.setAccessibleName("Filter text")
        self.period_box = QComboBox()
        self.period_box.setAccessibleName("Period")
        for label, value in PERIODS:
            self.period_box.addItem(label, value)
        today = QDate.currentDate()
        self.from_edit = QDateEdit(today.addDays(-7), calendarPopup=True)
        self.to_edit = QDateEdit(today, calendarPopup=True)
        for edit, name in ((self.from_edit, "From date"), (self.to_edit, "To date")):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setAccessibleName(name)
            edit.setVisible(False)
            edit.dateChanged.connect(lambda _d: self.filter_timer.start())
        self.refresh_button = QPushButton(icons.icon("refresh"), "Refresh")
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Action"))
        filters.addWidget(self.action_box)
        filters.addWidget(self.period_box)
        filters.addWidget(self.from_edit)
        filters.addWidget(self.to_edit)
        filters.addWidget(self.text_edit, 1)
        filters.addWidget(self.refresh_button)

        self.entries = RecordTableModel(AUDIT_COLUMNS, self)
        self.view = record_table(self.entries, "Audit log", sortable=False)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((150, 170, 160, 200, 300)):
            header.resizeSection(column, width)
        header.sortIndicatorChanged.connect(self._sort_changed)

        self.newer_button = QPushButton("< Newer")
        self.older_button = QPushButton("Older >")
        self.page_label = QLabel(objectName="loginInfo")
        self.message = QLabel(objectName="loginError", wordWrap=True)
        self.message.setVisible(False)
        pager = QHBoxLayout()
        pager.addWidget(self.page_label, 1)
        pager.addWidget(self.newer_button)
        pager.addWidget(self.older_button)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addLayout(pager)

        self.filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self.filter_timer.timeout.connect(self.first_page)
        self.text_edit.textChanged.connect(lambda _t: self.filter_timer.start())
        self.text_edit.returnPressed.connect(self.first_page)
        self.action_box.currentIndexChanged.connect(lambda _i: self.first_page())
        self.period_box.currentIndexChanged.connect(self._period_changed)
        self.refresh_button.clicked.connect(self.reload)
        self.newer_button.clicked.connect(lambda: self.go(self.offset - PAGE_SIZE))
        self.older_button.clicked.connect(lambda: self.go(self.offset + PAGE_SIZE))
        self._load_actions()
        self.reload()

    def _load_actions(self) -> None:
        backend = self.session.backend
        run_in_pool(backend.audit_actions, self._actions_arrived, self._failed)

    def _actions_arrived(self, actions: list[str]) -> None:
        self.action_box.blockSignals(True)
        for action in actions:
            self.action_box.addItem(action, action)
        self.action_box.blockSignals(False)

    def set_action(self, action: str | None) -> None:
        row = self.action_box.findData(action) if action else 0
        if row < 0:
            self.action_box.addItem(action, action)
            row = self.action_box.count() - 1
        self.action_box.setCurrentIndex(row)

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        field = SORT_FIELDS[column] if 0 <= column < len(SORT_FIELDS) else None
        if field is None:
            header = self.view.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(
                SORT_FIELDS.index(self.sort_by),
                Qt.SortOrder.DescendingOrder if self.descending else Qt.SortOrder.AscendingOrder,
            )
            header.blockSignals(False)
            return
        self.sort_by, self.descending = field, order == Qt.SortOrder.DescendingOrder
        self.first_page()

    def _period_changed(self, _index: int) -> None:
        between = self.period_box.currentData() == BETWEEN_DATES
        self.from_edit.setVisible(between)
        self.to_edit.setVisible(between)
        self.first_page()

    def period(self) -> tuple[datetime | None, datetime | None]:
        """``since`` and ``until`` of the chosen period; dates are whole local days."""
        value = self.period_box.currentData()
        if isinstance(value, timedelta):
            return datetime.now(UTC) - value, None
        if value == BETWEEN_DATES:
            since = local_midnight(self.from_edit.date())
            return since, local_midnight(self.to_edit.date().addDays(1))
        return None, None

    def first_page(self) -> None:
        self.go(0)

    def go(self, offset: int) -> None:
        self.offset = max(0, offset)
        self.reload()

    def reload(self) -> None:
        self.filter_timer.stop()
        self._generation += 1
        generation = self._generation
        backend = self.session.backend
        since, until = self.period()
        kwargs = {
            "since": since,
            "until": until,
            "offset": self.offset,
            "limit": PAGE_SIZE,
            "action": self.action_box.currentData(),
            "text": self.text_edit.text(),
            "sort_by": self.sort_by,
            "descending": self.descending,
        }
        run_in_pool(
            lambda: backend.audit_entries(**kwargs),
            lambda page: self._arrived(generation, page),
            self._failed,
        )

    def _arrived(self, generation: int, page: Page[AuditEntry]) -> None:
        if generation != self._generation:
            return
        self.total = page.total
        self.entries.set_rows(page.items)
        self.message.setVisible(False)
        first = page.offset + 1 if page.items else 0
        self.page_label.setText(
            f"{first} to {page.offset + len(page.items)} of {page.total} entries"
            if page.total
            else "No entries match."
        )
        self.newer_button.setEnabled(page.offset > 0)
        self.older_button.setEnabled(page.has_more)
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        text = user_message(exc)
        self.message.setText(text)
        self.message.setVisible(True)
        self.failed.emit(text)
