"""What the alert editors share: a table of a scope's records, a form to add one (for
those who may write), a button to remove the selected one, and a line of feedback."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from argos_desktop.admin.record_table_model import Column, RecordTableModel
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

T = TypeVar("T")


class RecordEditor(QDialog, Generic[T]):
    loaded = Signal()
    changed = Signal(object)  # the record added or removed

    def __init__(
        self,
        session: ConsoleSession,
        columns: Sequence[Column[T]],
        *,
        name: str,
        add_text: str,
        remove_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self.records: RecordTableModel[T] = RecordTableModel(columns, self)
        self.table = QTableView(objectName=f"{name}Table")
        self.table.setModel(self.records)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.form_layout = QFormLayout()
        self.form = QWidget(objectName=f"{name}Form")
        self.form.setLayout(self.form_layout)
        self.add_button = QPushButton(add_text, objectName=f"{name}Add")
        self.remove_button = QPushButton(remove_text, objectName=f"{name}Remove", enabled=False)
        self.message = QLabel(objectName=f"{name}Message", wordWrap=True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        can_write = session.identity.can_write
        for widget in (self.form, self.add_button, self.remove_button):
            widget.setVisible(can_write)
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

    @property
    def backend(self) -> Any:
        return self._session.backend

    def reload(self) -> None:
        run_in_pool(self.list_records, self._shown, self._failed, context=self)

    def selected(self) -> T | None:
        rows = self.table.selectionModel().selectedRows()
        return self.records.record(rows[0].row()) if rows else None

    def add(self) -> None:
        """Read the form; on a mistake say so, else call the backend in the pool."""
        try:
            call = self.adding()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.add_button.setEnabled(False)
        run_in_pool(call, self._added, self._failed, context=self)

    def remove_selected(self) -> None:
        record = self.selected()
        if record is None:
            return
        self.remove_button.setEnabled(False)
        run_in_pool(
            lambda: self.remove(record),
            lambda _: self._removed(record),
            self._failed,
            context=self,
        )

    # --- for the editors -----------------------------------------------------------------------
    def list_records(self) -> list[T]:
        raise NotImplementedError

    def adding(self) -> Callable[[], T]:
        """The backend call that adds what the form says; ValueError for a form mistake."""
        raise NotImplementedError

    def remove(self, record: T) -> None:
        raise NotImplementedError

    def describe(self, record: T) -> str:
        raise NotImplementedError

    # --- results ---------------------------------------------------------------------------
    def _added(self, record: T) -> None:
        self.add_button.setEnabled(True)
        self.message.setText(f"Added: {self.describe(record)}")
        self.changed.emit(record)
        self.reload()

    def _removed(self, record: T) -> None:
        self.message.setText(f"Removed: {self.describe(record)}")
        self.changed.emit(record)
        self.reload()

    def _shown(self, records: list[T]) -> None:
        self.records.set_rows(records)
        self._selection_changed()
        self.loaded.emit()

    def _failed(self, exc: Exception) -> None:
        self.add_button.setEnabled(True)
        self._selection_changed()
        self.message.setText(user_message(exc))
        self.loaded.emit()

    def _selection_changed(self, *_: object) -> None:
        self.remove_button.setEnabled(self.selected() is not None)
