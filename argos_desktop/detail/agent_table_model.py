"""The agents under a tenant, company or branch: a lazy, server-side sorted table model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from argos_core.services.dto import AgentSummary, Page
from argos_desktop.detail import status_style

AGENT_UUID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_KEY_ROLE = Qt.ItemDataRole.UserRole + 2

# A page of agents from the service: (offset, limit, sort_by, descending) -> Page.
PageLoader = Callable[[int, int, str, bool], Page[AgentSummary]]
# Runs a callable off the GUI thread: (fn, on_success, on_failure).
Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None]], None]

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    title: str
    sort_key: str | None


COLUMNS = (
    Column("Status", "status"),
    Column("Hostname", "hostname"),
    Column("Branch", None),
    Column("Operating system", "os"),
    Column("IP addresses", None),
    Column("Version", "agent_version"),
    Column("Last seen", "last_seen"),
    Column("Enrolled", "enrolled_at"),
)
STATUS, HOSTNAME, BRANCH, OS, IPS, VERSION, LAST_SEEN, ENROLLED = range(len(COLUMNS))
PAGE_SIZE = 200
REFRESH_LIMIT = 1000


def relative_time(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def local_time(when: datetime | None) -> str:
    return "" if when is None else when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class AgentTableModel(QAbstractTableModel):
    """Agents a page at a time (``canFetchMore``/``fetchMore``), sorted by the database.

    The model never calls a service itself: a ``PageLoader`` fetches and a ``Runner`` runs
    it off the GUI thread. ``refresh()`` re-reads the loaded rows and updates them in place.
    """

    pageLoaded = Signal()
    loadFailed = Signal(str)
    totalChanged = Signal(int)

    def __init__(
        self,
        runner: Runner,
        *,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], datetime] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._run = runner
        self._page_size = page_size
        self._clock = clock or (lambda: datetime.now(UTC))
        self._loader: PageLoader | None = None
        self._rows: list[AgentSummary] = []
        self._total = 0
        self._sort_key = "hostname"
        self._descending = False
        self._loading = False
        self._with_company = False  # a tenant's agents: name the company beside the branch
        self._generation = 0
        self._now = self._clock()

    # --- what to show ----------------------------------------------------------------------

    def set_loader(self, loader: PageLoader | None) -> None:
        """Show the agents ``loader`` pages through (``None`` empties the table)."""
        self._loader = loader
        self._reload()

    @property
    def total(self) -> int:
        return self._total

    @property
    def sort_key(self) -> str:
        return self._sort_key

    @property
    def descending(self) -> bool:
        return self._descending

    @property
    def loading(self) -> bool:
        return self._loading

    def agent(self, row: int) -> AgentSummary:
        return self._rows[row]

    def row_of(self, uuid: str) -> int:
        return next((i for i, a in enumerate(self._rows) if a.uuid == uuid), -1)

    def sort_column(self) -> int:
        return next(i for i, c in enumerate(COLUMNS) if c.sort_key == self._sort_key)

    # --- Qt model --------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == BRANCH and self._with_company:
                return "Company / Branch"
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section].sort_key is None:
            return "This column cannot be sorted."
        return None

    @property
    def with_company(self) -> bool:
        return self._with_company

    def set_with_company(self, with_company: bool) -> None:
        """Name each agent's company beside its branch (a tenant's agents: branch names
        repeat across its companies)."""
        if with_company == self._with_company:
            return
        self._with_company = with_company
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, BRANCH, BRANCH)
        if self._rows:
            last = len(self._rows) - 1
            self.dataChanged.emit(self.index(0, BRANCH), self.index(last, BRANCH))

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        agent = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(agent, column)
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS:
            return status_style.dot_icon(agent.status)
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS:
            return status_style.color(agent.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == LAST_SEEN:
                return local_time(agent.last_seen) or "This agent has never reported."
            if column == ENROLLED:
                return local_time(agent.enrolled_at)
            if column == IPS:
                return "\n".join(agent.ip_addresses)
            if column == STATUS and agent.revoked_at is not None:
                return f"Revoked {local_time(agent.revoked_at)}"
            if column == STATUS:
                return status_style.MEANINGS[agent.status]
            if column == BRANCH:
                return f"Branch {agent.branch_name} ({agent.branch_org_id})"
            return None
        if role == AGENT_UUID_ROLE:
            return agent.uuid
        return None

    def _display(self, agent: AgentSummary, column: int) -> str:
        if column == STATUS:
            return status_style.LABELS[agent.status]
        if column == HOSTNAME:
            return agent.hostname
        if column == BRANCH:
            branch = agent.branch_name or agent.branch_org_id
            if self._with_company and agent.company_name:
                return f"{agent.company_name} / {branch}"  # branch names repeat across companies
            return branch
        if column == OS:
            return agent.os
        if column == IPS:
            return ", ".join(agent.ip_addresses)
        if column == VERSION:
            return agent.agent_version
        if column == LAST_SEEN:
            return relative_time(agent.last_seen, self._now)
        return agent.enrolled_at.astimezone().strftime("%Y-%m-%d")

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS) or COLUMNS[column].sort_key is None:
            return
        key = COLUMNS[column].sort_key
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort_key, self._descending):
            return
        self._sort_key, self._descending = key, descending
        self._reload()

    def canFetchMore(self, parent: AnyIndex) -> bool:
        return (
            not parent.isValid()
            and self._loader is not None
            and not self._loading
            and len(self._rows) < self._total
        )

    def fetchMore(self, parent: AnyIndex) -> None:
        if self.canFetchMore(parent):
            self._load_page(len(self._rows))

    # --- loading ---------------------------------------------------------------------------

    def _reload(self) -> None:
        self._generation += 1
        self.beginResetModel()
        self._rows = []
        self._set_total(0)
        self.endResetModel()
        self._loading = False
        if self._loader is not None:
            self._load_page(0)

    def _load_page(self, offset: int) -> None:
        loader, generation = self._loader, self._generation
        sort_key, descending, limit = self._sort_key, self._descending, self._page_size
        assert loader is not None
        self._loading = True

        def fetch() -> Page[AgentSummary]:
            return loader(offset, limit, sort_key, descending)

        def done(page: Page[AgentSummary]) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._now = self._clock()
            fresh = page.items[max(0, len(self._rows) - offset) :]
            if fresh:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
                self._rows.extend(fresh)
                self.endInsertRows()
            self._set_total(page.total)
            self.pageLoaded.emit()

        self._run(fetch, done, lambda exc: self._failed(generation, exc))

    def refresh(self) -> None:
        """Re-read the loaded rows (same sort) and update them in place."""
        if self._loader is None or self._loading:
            return
        loader, generation = self._loader, self._generation
        sort_key, descending = self._sort_key, self._descending
        wanted = max(len(self._rows), self._page_size)

        def fetch() -> tuple[list[AgentSummary], int]:
            rows: list[AgentSummary] = []
            total = 0
            while len(rows) < wanted:
                page = loader(
                    len(rows), min(REFRESH_LIMIT, wanted - len(rows)), sort_key, descending
                )
                rows.extend(page.items)
                total = page.total
                if not page.items or not page.has_more:
                    break
            return rows, total

        def done(result: tuple[list[AgentSummary], int]) -> None:
            if generation == self._generation:
                self._loading = False
                self._apply_refresh(*result)

        self._loading = True
        self._run(fetch, done, lambda exc: self._failed(generation, exc))

    def _apply_refresh(self, rows: list[AgentSummary], total: int) -> None:
        self._now = self._clock()
        old = len(self._rows)
        if len(rows) < old:
            self.beginRemoveRows(QModelIndex(), len(rows), old - 1)
            del self._rows[len(rows) :]
            self.endRemoveRows()
        common = len(self._rows)
        changed = [i for i in range(common) if self._rows[i] != rows[i]]
        self._rows[:common] = rows[:common]
        if len(rows) > common:
            self.beginInsertRows(QModelIndex(), common, len(rows) - 1)
            self._rows.extend(rows[common:])
            self.endInsertRows()
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1)
            )
        if common:
            # "3 min ago" moves on even when nothing else changed.
            self.dataChanged.emit(
                self.index(0, LAST_SEEN),
                self.index(common - 1, LAST_SEEN),
                [Qt.ItemDataRole.DisplayRole],
            )
        self._set_total(total)
        self.pageLoaded.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self.loadFailed.emit(str(exc) or type(exc).__name__)

    def _set_total(self, total: int) -> None:
        if total != self._total:
            self._total = total
            self.totalChanged.emit(total)
