"""A tenant's, company's or branch's history: its agents together over time, and the agents
that used the most CPU, memory or disk in the same range."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from argos_core.services.dto import NodeSeries
from argos_desktop.charts.chart_specs import NODE_CHARTS
from argos_desktop.charts.node_series import node_chart_data
from argos_desktop.charts.series import ChartData
from argos_desktop.detail.agent_charts import AgentCharts
from argos_desktop.detail.top_agents_table import TopAgentsFetch, TopAgentsTable
from argos_desktop.workers import Requests

# (start, end, max_points) -> the node's aggregate; bound to one node by the caller.
NodeFetch = Callable[[int, int, int], NodeSeries]


class NodeCharts(AgentCharts):
    """The agent charts' presets, zoom, crosshair and export over a node's aggregate series:
    per metric the average across its agents with the highest of any as a line, and how many
    agents reported. ``rangeLoading(start, end)`` fires with each full load."""

    rangeLoading = Signal(int, int)

    def __init__(
        self,
        requests: Requests,
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(requests, clock, parent, specs=NODE_CHARTS)
        self.subject = "node"

    def chart_data(self, series: NodeSeries, known_until: int) -> ChartData:  # type: ignore[override]
        return node_chart_data(series, known_until)

    def resolution_text(self, data: ChartData) -> str:
        hours = max(1, data.bucket_s // 3600)
        every = "hourly" if hours == 1 else f"{hours} h"
        return f"{every} rollups across the agents (average, max as a line)"

    def reload(self) -> None:
        super().reload()
        if self.last_query is not None:
            self.rangeLoading.emit(*self.window)


class NodeHistory(QWidget):
    """Aggregate charts above the top-agents table, for one node at a time.

    Built empty: the charts are made and loaded when the page is first shown, so a console
    that never opens it pays nothing for them. ``agentActivated(uuid)`` fires on a
    double-click in the top-agents table.
    """

    agentActivated = Signal(str)

    def __init__(
        self,
        requests: Requests,
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._requests = requests
        self._clock = clock
        self._source: tuple[NodeFetch, TopAgentsFetch, str] | None = None
        self._applied = True
        self.charts: NodeCharts | None = None
        self.top_agents: TopAgentsTable | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def set_node(self, aggregate: NodeFetch, top: TopAgentsFetch, subject: str) -> None:
        """Show the node these read (loaded now if the page is shown, else when it is)."""
        self._source = (aggregate, top, subject)
        self._applied = False
        if self.isVisible():
            self._apply()

    def clear(self) -> None:
        self._source = None
        self._applied = True
        if self.charts is not None and self.top_agents is not None:
            self.charts.set_source(None)
            self.top_agents.set_source(None)

    def refresh(self) -> None:
        """Live refresh: the charts follow the clock on a "last …" range."""
        if self.charts is not None and self._applied and self.isVisible():
            self.charts.refresh()

    def ensure_built(self) -> tuple[NodeCharts, TopAgentsTable]:
        if self.charts is None or self.top_agents is None:
            self.charts = NodeCharts(self._requests, self._clock)
            self.top_agents = TopAgentsTable(self._requests)
            self.charts.rangeLoading.connect(self.top_agents.set_range)
            self.top_agents.agentActivated.connect(self.agentActivated)
            splitter = QSplitter(Qt.Orientation.Vertical)
            splitter.setChildrenCollapsible(False)
            splitter.addWidget(self.charts)
            splitter.addWidget(self.top_agents)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 1)
            self._layout.addWidget(splitter)
        return self.charts, self.top_agents

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._applied:
            self._apply()

    def _apply(self) -> None:
        charts, top_agents = self.ensure_built()
        self._applied = True
        if self._source is None:
            return
        aggregate, top, subject = self._source
        charts.subject = subject
        top_agents.set_source(top)
        charts.set_source(aggregate)
