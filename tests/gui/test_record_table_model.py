"""The admin dialogs' table model over plain records, under Qt's model tester throughout."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontDatabase

from argos_desktop.admin.record_table_model import RECORD_ROLE, Column, RecordTableModel


@dataclass(frozen=True)
class Key:
    note: str
    uses: int


COLUMNS = [
    Column("Note", lambda k: k.note),
    Column("Uses", lambda k: str(k.uses), sort_key=lambda k: k.uses, monospace=True),
]
KEYS = [Key("berlin", 3), Key("Athens", 12), Key("cairo", 1)]


def model_under_test(qtmodeltester) -> RecordTableModel[Key]:
    model = RecordTableModel(COLUMNS)
    qtmodeltester.check(model)  # attached first: every change below is checked as it happens
    return model


def notes(model: RecordTableModel[Key]) -> list[str]:
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_rows_columns_headers_and_roles(qtmodeltester):
    model = model_under_test(qtmodeltester)
    model.set_rows(KEYS)
    assert (model.rowCount(), model.columnCount()) == (3, 2)
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Uses"
    assert model.headerData(2, Qt.Orientation.Horizontal) is None
    assert model.index(1, 1).data() == "12"
    assert model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole) == "12"
    assert model.index(1, 1).data(Qt.ItemDataRole.FontRole) == QFontDatabase.systemFont(
        QFontDatabase.SystemFont.FixedFont
    )
    assert model.index(1, 0).data(Qt.ItemDataRole.FontRole) is None
    assert model.index(2, 0).data(RECORD_ROLE) == KEYS[2]
    assert model.data(QModelIndex()) is None
    assert (model.record(5), model.record(-1)) == (None, None)


def test_sorting_keeps_persistent_indexes_on_their_records(qtmodeltester):
    model = model_under_test(qtmodeltester)
    model.set_rows(KEYS)
    cairo = QPersistentModelIndex(model.index(2, 1))
    model.sort(0)
    assert notes(model) == ["Athens", "berlin", "cairo"]  # text sorts without case
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert [k.uses for k in model.records()] == [12, 3, 1]
    assert (cairo.row(), cairo.column(), cairo.data(RECORD_ROLE)) == (2, 1, KEYS[2])
    model.sort(7)  # no such column: nothing happens
    assert [k.uses for k in model.records()] == [12, 3, 1]


def test_new_rows_keep_the_chosen_order(qtmodeltester):
    model = model_under_test(qtmodeltester)
    model.sort(1)
    model.set_rows(KEYS)
    assert [k.uses for k in model.records()] == [1, 3, 12]
    model.set_rows([])
    assert model.rowCount() == 0
