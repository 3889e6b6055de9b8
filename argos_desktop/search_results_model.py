"""Search hits from ``orgs.search`` (server-side) as a flat, read-only table."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from argos_core.services.dto import SearchHit
from argos_desktop import icons, theme
from argos_desktop.org_tree_model import KEY_ROLE, KIND_LABELS, KIND_ROLE, STATUS_ROLE

HIT_ROLE = Qt.ItemDataRole.UserRole + 10
HEADERS = ("Name", "Type", "Located in")

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()


class SearchResultsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def set_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self._hits)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        hit = self._hits[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return hit.name
            if column == 1:
                kind = KIND_LABELS[hit.kind]
                if hit.status is not None:
                    return f"{kind} · {theme.STATUS_LABELS[hit.status]}"
                return f"{kind} · {hit.key}"
            return " / ".join(hit.path_names)
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return icons.node_icon(hit.kind, hit.status)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and hit.status is not None:
            return theme.current().status_color(hit.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            where = (
                " / ".join(f"{n} ({i})" for i, n in zip(hit.path, hit.path_names, strict=True))
                or "top level"
            )
            return f"{KIND_LABELS[hit.kind]} {hit.name}\nIn: {where}\nEnter reveals it in the tree"
        if role == KIND_ROLE:
            return hit.kind
        if role == KEY_ROLE:
            return hit.key
        if role == STATUS_ROLE:
            return hit.status.value if hit.status is not None else None
        if role == HIT_ROLE:
            return hit
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None
