"""The page for a tenant, company or branch: who it is, how its agents are, and the agents."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.dto import AgentSummary, OrgNode, Page
from argos_core.status import AgentStatus
from argos_desktop.detail import status_style
from argos_desktop.detail.agent_table_model import (
    AGENT_UUID_ROLE,
    BRANCH,
    COLUMNS,
    AgentTableModel,
    PageLoader,
    Runner,
)
from argos_desktop.detail.status_summary import StatusSummary
from argos_desktop.detail.widgets import CopyableText, caption_label, heading_label

FILTER_DELAY_MS = 300
CHILD_NOUNS = {"tenant": "companies", "company": "branches", "branch": "agents"}
COLUMN_WIDTHS = (110, 180, 80, 170, 130, 70, 110, 100)
COMPANY_BRANCH_WIDTH = 190  # "Keystone Retail / Madrid" in a tenant's table


class OrgView(QWidget):
    """Summary of one org node above a lazy, server-sorted table of every agent under it.

    ``set_node`` fills the header; ``set_agent_source`` gives the table a way to page the
    node's agents (given status and hostname filters).
    """

    agentActivated = Signal(str)
    filtersChanged = Signal()

    def __init__(
        self, runner: Runner, history: QWidget | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.kind_label = caption_label()
        self.name_label = heading_label()
        self.org_id = CopyableText("org id")
        self.facts_label = caption_label(elided=True)
        self.summary = StatusSummary()
        self.summary.statusClicked.connect(self.filter_by_status)

        self.model = AgentTableModel(runner, parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for column, width in enumerate(COLUMN_WIDTHS):
            header.resizeSection(column, width)
        header.setSortIndicator(self.model.sort_column(), Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        header.sortIndicatorChanged.connect(self._keep_sortable_indicator)
        self.table.doubleClicked.connect(self._activate)
        self.table.setToolTip("Double-click an agent (or press Enter) to open it.")
        self.table.installEventFilter(self)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_context_menu)

        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in status_style.ORDER:
            self.status_filter.addItem(
                status_style.dot_icon(status), status_style.LABELS[status], status
            )
            self.status_filter.setItemData(
                self.status_filter.count() - 1,
                status_style.MEANINGS[status],
                Qt.ItemDataRole.ToolTipRole,
            )
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Filter by hostname…")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.setMaximumWidth(260)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(lambda: self.filtersChanged.emit())
        self.text_filter.textChanged.connect(self._filter_timer.start)
        self.status_filter.currentIndexChanged.connect(lambda _index: self.filtersChanged.emit())
        self.agents_title = heading_label("Agents", 1.15)
        self.rows_label = caption_label()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {status_style.color_name(AgentStatus.OVERDUE)};")
        self.error_label.hide()

        self.model.totalChanged.connect(self._update_rows_label)
        self.model.rowsInserted.connect(self._update_rows_label)
        self.model.modelReset.connect(self._update_rows_label)
        self.model.pageLoaded.connect(self.error_label.hide)
        self.model.loadFailed.connect(self._show_error)

        title_row = QHBoxLayout()
        title_row.addWidget(self.name_label)
        title_row.addStretch(1)
        id_row = QHBoxLayout()
        id_row.setSpacing(12)
        id_row.addWidget(QLabel("Org id"))
        id_row.addWidget(self.org_id)
        id_row.addWidget(self.facts_label, 1)
        table_bar = QHBoxLayout()
        table_bar.addWidget(self.agents_title)
        table_bar.addWidget(self.rows_label)
        table_bar.addStretch(1)
        table_bar.addWidget(self.status_filter)
        table_bar.addWidget(self.text_filter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)
        layout.addWidget(self.kind_label)
        layout.addLayout(title_row)
        layout.addLayout(id_row)
        layout.addSpacing(4)
        layout.addWidget(self.summary)
        layout.addSpacing(8)
        agents = QWidget()
        agents_layout = QVBoxLayout(agents)
        agents_layout.setContentsMargins(0, 4, 0, 0)
        agents_layout.addLayout(table_bar)
        agents_layout.addWidget(self.error_label)
        agents_layout.addWidget(self.table, 1)
        # The node's history (aggregate charts, top agents) is a tab beside its agents.
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(agents, "Agents")
        if history is not None:
            self.tabs.addTab(history, "History")
        layout.addWidget(self.tabs, 1)

    # --- content ---------------------------------------------------------------------------

    def set_node(self, node: OrgNode, parent_name: str = "") -> None:
        self.kind_label.setText(node.kind.upper())
        self.name_label.setText(node.name)
        self.org_id.set_text(node.org_id)
        facts = [f"{node.child_count:,} {CHILD_NOUNS[node.kind]}"]
        if node.parent_org_id:
            parent = f"{parent_name} ({node.parent_org_id})" if parent_name else node.parent_org_id
            facts.append(f"in {parent}")
        facts.append(f"created {node.created_at.astimezone():%Y-%m-%d}")
        self.facts_label.setText("   ·   ".join(facts))
        self.summary.set_counts(node.counts)
        self.table.setColumnHidden(BRANCH, node.kind == "branch")
        tenant = node.kind == "tenant"
        if tenant != self.model.with_company:
            width = COMPANY_BRANCH_WIDTH if tenant else COLUMN_WIDTHS[BRANCH]
            self.table.horizontalHeader().resizeSection(BRANCH, width)
        self.model.set_with_company(tenant)

    def filter_by_status(self, status: AgentStatus) -> None:
        """List only agents in ``status``; the same status again lists them all."""
        row = self.status_filter.findData(status)
        self.status_filter.setCurrentIndex(0 if row == self.status_filter.currentIndex() else row)

    def set_agent_source(self, loader: PageLoader | None) -> None:
        self.error_label.hide()
        self.model.set_loader(loader)

    def reset_filters(self) -> None:
        for widget in (self.status_filter, self.text_filter):
            widget.blockSignals(True)
        self.status_filter.setCurrentIndex(0)
        self.text_filter.clear()
        for widget in (self.status_filter, self.text_filter):
            widget.blockSignals(False)
        self._filter_timer.stop()

    def status_wanted(self) -> AgentStatus | None:
        value = self.status_filter.currentData()  # Qt hands the StrEnum back as a str
        return AgentStatus(value) if value else None

    def text_wanted(self) -> str:
        return self.text_filter.text().strip()

    def refresh(self) -> None:
        """Re-read the loaded agents in place, then re-select the agent that was selected."""
        selected = self.selected_uuid()
        if selected:
            self.model.pageLoaded.connect(
                lambda: self._reselect(selected), Qt.ConnectionType.SingleShotConnection
            )
        self.model.refresh()

    def selected_uuid(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(AGENT_UUID_ROLE) if rows else None

    def select_uuid(self, uuid: str) -> bool:
        row = self.model.row_of(uuid)
        if row < 0:
            return False
        self.table.selectRow(row)
        return True

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            obj is self.table
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.table.currentIndex().isValid()
        ):
            self._activate(self.table.currentIndex())
            return True
        return super().eventFilter(obj, event)

    # --- slots -----------------------------------------------------------------------------

    def _reselect(self, uuid: str) -> None:
        if self.selected_uuid() != uuid:
            self.select_uuid(uuid)

    def context_menu(self, row: int) -> QMenu:
        """What can be done with the agent in ``row``: open it, copy what identifies it."""
        agent = self.model.agent(row)
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.agentActivated.emit(agent.uuid))
        menu.addSeparator()
        for label, text in (
            ("Copy hostname", agent.hostname),
            ("Copy agent id", agent.uuid),
            ("Copy IP addresses", ", ".join(agent.ip_addresses)),
        ):
            copy = menu.addAction(label, lambda t=text: QGuiApplication.clipboard().setText(t))
            copy.setEnabled(bool(text))
        return menu

    def _show_context_menu(self, at: QPoint) -> None:
        index = self.table.indexAt(at)
        if index.isValid():
            self.table.selectRow(index.row())
            self.context_menu(index.row()).popup(self.table.viewport().mapToGlobal(at))

    def _activate(self, index: QModelIndex) -> None:
        uuid = index.data(AGENT_UUID_ROLE)
        if uuid:
            self.agentActivated.emit(uuid)

    def _keep_sortable_indicator(self, column: int, order: Qt.SortOrder) -> None:
        if COLUMNS[column].sort_key is None:
            order = (
                Qt.SortOrder.DescendingOrder
                if self.model.descending
                else Qt.SortOrder.AscendingOrder
            )
            self.table.horizontalHeader().setSortIndicator(self.model.sort_column(), order)

    def _update_rows_label(self) -> None:
        total, shown = self.model.total, self.model.rowCount()
        if self.model.loading and not shown:
            self.rows_label.setText("loading…")
        elif total > shown:
            self.rows_label.setText(f"{total:,} · {shown:,} loaded, scroll for more")
        else:
            self.rows_label.setText(f"{total:,}")

    def _show_error(self, message: str) -> None:
        self.error_label.setText(f"Could not load the agents: {message}")
        self.error_label.show()


def page_loader(list_agents, org_id: str, status: AgentStatus | None, text: str) -> PageLoader:
    """Bind a node and filters to the backend's ``list_agents``."""

    def load(offset: int, limit: int, sort_by: str, descending: bool) -> Page[AgentSummary]:
        return list_agents(
            org_id,
            offset=offset,
            limit=limit,
            sort_by=sort_by,
            descending=descending,
            status=status,
            text=text,
        )

    return load
