"""The fleet tree's view: lays out only the rows that arrived, not the whole tree."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import QTreeView


class OrgTreeView(QTreeView):
    """A ``QTreeView`` that keeps the first page under an expanded node cheap.

    When rows are inserted under an expanded node, ``QTreeView`` lays out every expanded
    row again (tens of milliseconds with thousands of agents shown). Rows inserted under a
    *collapsed* node cost nothing, and expanding a node lays out only its own children. So
    a node's first page goes in while the node is collapsed for an instant, then the node
    is expanded again; no signal announces the round trip.
    """

    def rowsInserted(self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int):
        model = self.model()
        first_page = (
            start == 0
            and parent.isValid()
            and self.isExpanded(parent)
            and model.rowCount(parent) == end + 1
        )
        if not first_page:
            super().rowsInserted(parent, start, end)
            return
        blocked = self.blockSignals(True)
        try:
            self.setExpanded(parent, False)
            super().rowsInserted(parent, start, end)
            self.setExpanded(parent, True)
        finally:
            self.blockSignals(blocked)
