"""The agents of a node that used the most CPU, memory or disk over a range."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.dto import TopAgent
from argos_desktop.detail.widgets import caption_label, heading_label
from argos_desktop.workers import Requests

# (metric, start, end) -> the node's top agents; bound to one node by the caller.
TopAgentsFetch = Callable[[str, int, int], list[TopAgent]]
METRICS = (("cpu_percent", "CPU"), ("mem_percent", "Memory"), ("disk_percent", "Disk"))
HEADERS = ("Hostname", "Branch", "Average", "Peak")
CHANNEL = "top-agents"
UUID_ROLE = Qt.ItemDataRole.UserRole + 1


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


class TopAgentsTable(QWidget):
    """A metric choice above a small table, re-read for each range the charts load.

    ``agentActivated(uuid)`` fires on a double-click on a row; ``loaded`` when an
    answer is on screen.
    """

    agentActivated = Signal(str)
    loaded = Signal()

    def __init__(self, requests: Requests, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._requests = requests
        self._fetch: TopAgentsFetch | None = None
        self._range: tuple[int, int] | None = None
        self.metric = QComboBox()
        for metric, label in METRICS:
            self.metric.addItem(label, metric)
        self.metric.setToolTip("Rank the agents by their average of this metric over the range")
        self.metric.currentIndexChanged.connect(lambda _index: self.reload())
        self.status = caption_label()
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        # Room for about six agents before it scrolls.
        self.table.setMinimumHeight(24 * 7 + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Double-click an agent to open it.")
        self.table.doubleClicked.connect(self._activate)

        bar = QHBoxLayout()
        bar.addWidget(heading_label("Top agents by", 1.05))
        bar.addWidget(self.metric)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    def set_source(self, fetch: TopAgentsFetch | None) -> None:
        self._requests.cancel(CHANNEL)
        self._fetch = fetch
        self._range = None
        self._show([])

    def set_range(self, start: int, end: int) -> None:
        self._range = (start, end)
        self.reload()

    def reload(self) -> None:
        fetch, bounds = self._fetch, self._range
        if fetch is None or bounds is None:
            return
        metric = self.metric.currentData()
        self.status.setText("Loading…")
        self._requests.run(CHANNEL, lambda: fetch(metric, *bounds), self._loaded, self._failed)

    def hostnames(self) -> list[str]:
        return [self.table.item(row, 0).text() for row in range(self.table.rowCount())]

    def _loaded(self, agents: list[TopAgent]) -> None:
        self._show(agents)
        self.status.setText(
            "by their average over the range" if agents else "No telemetry in this range."
        )
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self._show([])
        self.status.setText(f"Could not load the top agents: {exc or type(exc).__name__}")

    def _show(self, agents: list[TopAgent]) -> None:
        self.status.setText("")
        self.table.setRowCount(len(agents))
        for row, agent in enumerate(agents):
            cells = (
                agent.hostname,
                agent.branch_org_id,
                _percent(agent.average),
                _percent(agent.maximum),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(UUID_ROLE, agent.uuid)
                if column >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)

    def _activate(self, index: QModelIndex) -> None:
        uuid = index.data(UUID_ROLE)
        if uuid:
            self.agentActivated.emit(uuid)
