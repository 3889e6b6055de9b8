"""A read-only table over a list of plain records (users, keys, audit entries)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontDatabase

T = TypeVar("T")
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()


@dataclass(frozen=True)
class Column(Generic[T]):
    title: str
    text: Callable[[T], str]
    sort_key: Callable[[T], Any] | None = None
    monospace: bool = False
    tooltip: Callable[[T], str] | None = None
    decoration: Callable[[T], Any] | None = None  # e.g. a QColor swatch before the text


class RecordTableModel(QAbstractTableModel, Generic[T]):
    """Rows are records, columns say how to show them; ``sort`` sorts the loaded rows."""

    def __init__(self, columns: Sequence[Column[T]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[T] = []
        self._sorted: tuple[int, Qt.SortOrder] | None = None
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()
        if self._sorted is not None:
            self.sort(*self._sorted)

    def record(self, row: int) -> T | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def records(self) -> list[T]:
        return list(self._rows)

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record, column = self._rows[index.row()], self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(record) if column.tooltip else column.text(record)
        if role == Qt.ItemDataRole.DecorationRole and column.decoration:
            return column.decoration(record)
        if role == Qt.ItemDataRole.FontRole and column.monospace:
            return self._mono
        if role == RECORD_ROLE:
            return record
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns):
            return
        self._sorted = (column, order)
        spec = self._columns[column]
        key = spec.sort_key or (lambda r: spec.text(r).lower())
        self.layoutAboutToBeChanged.emit()
        order_rows = sorted(
            range(len(self._rows)),
            key=lambda i: key(self._rows[i]),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        moved_to = {old: new for new, old in enumerate(order_rows)}
        self._rows = [self._rows[i] for i in order_rows]
        before = self.persistentIndexList()
        self.changePersistentIndexList(
            before, [self.index(moved_to[i.row()], i.column()) for i in before]
        )
        self.layoutChanged.emit()
