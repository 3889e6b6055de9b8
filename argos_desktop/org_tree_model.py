"""The fleet as one lazy tree: tenant → company → branch → agent.

Nothing is loaded until a view asks: ``hasChildren`` answers from the counts the parent's
page already brought, ``fetchMore`` loads the next page of children on a worker thread and
inserts it when it arrives. ``refresh()`` re-reads the loaded levels and updates rows in
place, so expansion and selection survive a live refresh.

A refresh reads one level per worker job, top level first, and only the levels a view
shows (collapsed ones are re-read when expanded again). It pauses while a page the user
asked for is loading: on a big fleet the user's click must not queue behind it.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontDatabase

from argos_core.services.dto import AgentSummary, OrgNode, Page, StatusCounts
from argos_core.status import AgentStatus
from argos_desktop import icons, theme
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
COUNTS_ROLE = Qt.ItemDataRole.UserRole + 4

NAME_COLUMN, ID_COLUMN, STATUS_COLUMN = range(3)
HEADERS = ("Name", "Org ID / IP", "Status")
DEFAULT_PAGE_SIZE = 100
REFRESH_CHUNK = 500
KIND_LABELS = {"tenant": "Tenant", "company": "Company", "branch": "Branch", "agent": "Agent"}

AnyIndex = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
# The view calls index/flags/hasChildren/rowCount for every row it lays out (thousands, on
# each insertion under an expanded node): these are computed once, the methods kept lean.
ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
LEAF_FLAGS = ROW_FLAGS | Qt.ItemFlag.ItemNeverHasChildren
COLUMNS = len(HEADERS)


@dataclass(eq=False)
class TreeNode:
    """One row: an org node or an agent. ``total`` is None until its children were asked for."""

    kind: str
    key: str
    name: str = ""
    detail: str = ""
    child_count: int = 0
    counts: StatusCounts | None = None
    agent_status: AgentStatus | None = None
    parent: TreeNode | None = None
    children: list[TreeNode] = field(default_factory=list)
    row: int = 0
    total: int | None = None
    loading: bool = False
    failed: bool = False
    stale: bool = False

    @property
    def status(self) -> AgentStatus | None:
        if self.kind == "agent":
            return self.agent_status
        return self.counts.worst if self.counts else None

    @property
    def status_text(self) -> str:
        if self.kind == "agent":
            return theme.STATUS_LABELS[self.agent_status] if self.agent_status else ""
        if not self.counts or not self.counts.total:
            return "No agents"
        return self.counts.summary

    def update_from(self, other: TreeNode) -> bool:
        """Copy what a refresh may change; True when anything visible changed."""
        before = (self.name, self.detail, self.child_count, self.counts, self.agent_status)
        self.name, self.detail = other.name, other.detail
        self.child_count, self.counts, self.agent_status = (
            other.child_count,
            other.counts,
            other.agent_status,
        )
        return before != (self.name, self.detail, self.child_count, self.counts, self.agent_status)


def node_from_org(org: OrgNode) -> TreeNode:
    return TreeNode(org.kind, org.org_id, org.name, org.org_id, org.child_count, org.counts)


def node_from_agent(agent: AgentSummary) -> TreeNode:
    ip = agent.ip_addresses[0] if agent.ip_addresses else ""
    return TreeNode("agent", agent.uuid, agent.hostname, ip, 0, None, agent.status)


class OrgTreeModel(QAbstractItemModel):
    """Lazy tree over the backend's ``list_children`` and ``list_agents``."""

    pageLoaded = Signal(QModelIndex)
    loadFailed = Signal(str)
    refreshed = Signal(object)
    refreshFailed = Signal(str)
    orgRefreshed = Signal(object)  # OrgNode: a tenant, company or branch as a refresh read it
    revealed = Signal(QModelIndex)
    revealFailed = Signal(str)

    def __init__(
        self,
        session: ConsoleSession,
        page_size: int = DEFAULT_PAGE_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._page_size = page_size
        self._root = TreeNode("root", "")
        self._by_key: dict[str, TreeNode] = {}
        self._generation = 0
        self._refreshing = False
        self._announce_refresh = False
        self._refresh_queue: list[TreeNode] = []
        self._refresh_job: TreeNode | None = None  # the level being read
        self._user_loads: set[TreeNode] = set()
        self._is_expanded: Callable[[QModelIndex], bool] | None = None
        self._reveal_chain: list[str] = []
        self._added_while_loading: dict[str, list[OrgNode | AgentSummary]] = {}
        self._id_font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    # --- Qt model interface ------------------------------------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = ROOT) -> QModelIndex:
        if parent.isValid():
            if parent.column() > 0:
                return QModelIndex()
            children = parent.internalPointer().children
        else:
            children = self._root.children
        if 0 <= row < len(children) and 0 <= column < COLUMNS:
            return self.createIndex(row, column, children[row])
        return QModelIndex()

    def parent(self, index: AnyIndex = ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node: TreeNode = index.internalPointer()
        up = node.parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: AnyIndex = ROOT) -> int:
        if not parent.isValid():
            return len(self._root.children)
        if parent.column() > 0:
            return 0
        return len(parent.internalPointer().children)

    def columnCount(self, parent: AnyIndex = ROOT) -> int:
        return COLUMNS

    def hasChildren(self, parent: AnyIndex = ROOT) -> bool:
        if not parent.isValid():
            return True
        if parent.column() > 0:
            return False
        node: TreeNode = parent.internalPointer()
        return node.kind != "agent" and (bool(node.children) or node.child_count > 0)

    def canFetchMore(self, parent: AnyIndex) -> bool:
        if parent.column() > 0:
            return False
        node = self._node(parent)
        if node.kind == "agent" or node.loading or node.failed:
            return False
        if node.total is None:
            return node is self._root or node.child_count > 0
        return len(node.children) < node.total

    def fetchMore(self, parent: AnyIndex) -> None:
        if not self.canFetchMore(parent):
            return
        node = self._node(parent)
        node.loading = True
        self._user_loads.add(node)
        offset, generation = len(node.children), self._generation
        kind, key = node.kind, node.key
        run_in_pool(
            lambda: self._load_page(kind, key, offset, self._page_size),
            lambda page: self._page_arrived(node, generation, page),
            lambda exc: self._page_failed(node, generation, exc),
        )

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: TreeNode = index.internalPointer()
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (node.name, node.detail, node.status_text)[column]
        if role == Qt.ItemDataRole.DecorationRole:
            if column == NAME_COLUMN:
                return icons.node_icon(node.kind, node.status)
            if column == STATUS_COLUMN and node.status is not None:
                return icons.status_dot(node.status)
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS_COLUMN:
            if node.status is not None and node.status is not AgentStatus.ONLINE:
                return theme.current().status_color(node.status)
            return None
        if role == Qt.ItemDataRole.FontRole and column == ID_COLUMN:
            return self._id_font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{KIND_LABELS[node.kind]} {node.name}, {node.status_text}"
        if role == KIND_ROLE:
            return node.kind
        if role == KEY_ROLE:
            return node.key
        if role == STATUS_ROLE:
            return node.status.value if node.status is not None else None
        if role == COUNTS_ROLE:
            return node.counts
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return LEAF_FLAGS if index.internalPointer().kind == "agent" else ROW_FLAGS

    # --- public helpers ----------------------------------------------------------------------

    def index_for_key(self, key: str, column: int = 0) -> QModelIndex:
        node = self._by_key.get(key)
        if node is None:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def is_loading(self) -> bool:
        return self._refreshing or any(n.loading for n in self._loaded_parents())

    def reload(self) -> None:
        """Forget everything and start again from the roots (e.g. after reconnecting)."""
        self.beginResetModel()
        self._generation += 1
        self._root = TreeNode("root", "")
        self._by_key.clear()
        self._stop_refresh()
        self._reveal_chain = []
        self._added_while_loading.clear()
        self.endResetModel()

    def follow_view(self, is_expanded: Callable[[QModelIndex], bool]) -> None:
        """Refresh only the levels a view shows: the top level and expanded nodes."""
        self._is_expanded = is_expanded

    def refresh(self) -> bool:
        """Re-read the shown levels on worker threads; rows are updated in place.

        ``refreshed`` is emitted when every level was read. Returns False (and does
        nothing) while a previous refresh is still running.
        """
        if self._refreshing and self._announce_refresh:
            return False
        shown, hidden = self._refresh_targets(self._root)
        for node in hidden:
            node.stale = True
        self._root.failed = False
        for node in shown:
            node.failed = False
        queued = set(self._refresh_queue)
        self._refresh_queue.extend(node for node in shown if node not in queued)
        self._refreshing = self._announce_refresh = True
        self._refresh_next()
        return True

    def refreshing(self, key: str) -> bool:
        """Whether the refresh under way will read the level holding this tenant, company or
        branch (and emit ``orgRefreshed`` with it)."""
        node = self._by_key.get(key)
        if node is None or node.kind == "agent" or node.parent is None:
            return False
        return node.parent is self._refresh_job or node.parent in self._refresh_queue

    def node_expanded(self, index: QModelIndex) -> None:
        """A view expanded ``index``: re-read its levels a live refresh skipped meanwhile."""
        node = self._node(index)
        if not node.stale:
            return
        shown, _hidden = self._refresh_targets(node)
        queued = set(self._refresh_queue)
        self._refresh_queue.extend(n for n in shown if n.stale and n not in queued)
        if not self._refreshing:
            self._refreshing, self._announce_refresh = True, False
        self._refresh_next()

    def _refresh_targets(self, top: TreeNode) -> tuple[list[TreeNode], list[TreeNode]]:
        """Loaded levels under ``top`` (top first) whose children a view shows, and the rest."""
        shown: list[TreeNode] = []
        hidden: list[TreeNode] = []
        queue = deque([(top, True)])
        while queue:
            node, parent_shown = queue.popleft()
            if node.total is None:
                continue
            expanded = (
                node is self._root
                or self._is_expanded is None
                or self._is_expanded(self._index_of(node))
            )
            visible = parent_shown and expanded
            (shown if visible else hidden).append(node)
            queue.extend((child, visible) for child in node.children if child.kind != "agent")
        return shown, hidden

    def _refresh_next(self) -> None:
        """Start reading the next queued level, unless one is being read or the user waits."""
        if not self._refreshing or self._refresh_job is not None or self._user_loads:
            return
        while self._refresh_queue:
            node = self._refresh_queue.pop(0)
            if self._attached(node) and node.total is not None:
                break
        else:
            announce = self._announce_refresh
            self._stop_refresh()
            if announce:
                self.refreshed.emit(datetime.now(UTC))
            return
        self._refresh_job = node
        generation, kind, key = self._generation, node.kind, node.key
        count = self._refresh_count(node)
        run_in_pool(
            lambda: self._load_range(kind, key, count),
            lambda result: self._refresh_arrived(generation, node, result),
            lambda exc: self._refresh_failed(generation, exc),
        )

    def _stop_refresh(self) -> None:
        self._refreshing = self._announce_refresh = False
        self._refresh_job = None
        self._refresh_queue = []

    def _refresh_count(self, parent: TreeNode) -> int:
        """The loaded range, plus a page when everything was loaded, so new children show."""
        loaded = len(parent.children)
        if parent.total is not None and loaded >= parent.total:
            return loaded + self._page_size
        return max(loaded, 1)

    def reveal(self, path: list[str], key: str) -> None:
        """Load the ancestors in ``path`` (root first) page by page until ``key`` shows."""
        self._reveal_chain = [*path, key]
        self._continue_reveal()

    # --- changes made in this console ---------------------------------------------------------

    def add_item(self, parent_key: str | None, item: OrgNode | AgentSummary) -> QModelIndex:
        """Show a node just created (or moved) here under its parent, in name order.

        Returns its index, or an invalid one when the parent's children are not (all) loaded
        yet: then only the parent's count changes and the node arrives with its page.
        """
        parent = self._root if parent_key is None else self._by_key.get(parent_key)
        if parent is None:
            return QModelIndex()
        known = self._by_key.get(item.org_id if isinstance(item, OrgNode) else item.uuid)
        if known is not None:
            return self._index_of(known)
        node = self._convert(item)
        empty = parent.total is None and parent.child_count == 0 and parent is not self._root
        complete = parent.total is not None and len(parent.children) >= parent.total
        if parent.loading:
            # The page on its way may have been read before this node existed: add it after.
            self._added_while_loading.setdefault(parent.key, []).append(item)
            return QModelIndex()
        if parent is not self._root:
            parent.child_count += 1
            self._changed(parent)
        if not (empty or complete):
            if parent.total is not None:
                parent.total += 1
            return QModelIndex()
        names = [child.name.lower() for child in parent.children]
        row = bisect.bisect_right(names, node.name.lower())
        self.beginInsertRows(self._index_of(parent), row, row)
        node.parent = parent
        parent.children.insert(row, node)
        self._by_key[node.key] = node
        self._renumber(parent, row)
        self.endInsertRows()
        parent.total = len(parent.children)
        return self._index_of(node)

    def update_item(self, item: OrgNode | AgentSummary) -> None:
        """Show a renamed node (or an agent's new state); a new name moves it into order."""
        fresh = self._convert(item)
        node = self._by_key.get(fresh.key)
        if node is None:
            return
        renamed = node.name != fresh.name
        if node.update_from(fresh):
            self._changed(node)
        if renamed and node.parent is not None:
            self._move_into_order(node)

    def _move_into_order(self, node: TreeNode) -> None:
        """Move ``node`` among its loaded siblings to where its name sorts (selection kept)."""
        parent = node.parent
        assert parent is not None
        others = [c.name.lower() for c in parent.children if c is not node]
        target = bisect.bisect_right(others, node.name.lower())
        if target == node.row:
            return
        parent_index = self._index_of(parent)
        # Qt counts the destination in rows before the move.
        destination = target if target < node.row else target + 1
        if not self.beginMoveRows(parent_index, node.row, node.row, parent_index, destination):
            return
        del parent.children[node.row]
        parent.children.insert(target, node)
        self._renumber(parent, 0)
        self.endMoveRows()

    def remove_key(self, key: str) -> bool:
        """Take a deleted (or moved-away) node out of the tree; False when it was not loaded."""
        node = self._by_key.get(key)
        if node is None or node.parent is None:
            return False
        parent = node.parent
        self.beginRemoveRows(self._index_of(parent), node.row, node.row)
        del parent.children[node.row]
        self._forget(node)
        self._renumber(parent, node.row)
        self.endRemoveRows()
        if parent.total is not None:
            parent.total = max(len(parent.children), parent.total - 1)
        if parent is not self._root:
            parent.child_count = max(0, parent.child_count - 1)
            self._changed(parent)
        return True

    def parent_key(self, key: str) -> str | None:
        node = self._by_key.get(key)
        if node is None or node.parent is None or node.parent is self._root:
            return None
        return node.parent.key

    @staticmethod
    def _renumber(parent: TreeNode, start: int) -> None:
        for row in range(start, len(parent.children)):
            parent.children[row].row = row

    # --- loading -----------------------------------------------------------------------------

    def _load_page(self, kind: str, key: str, offset: int, limit: int) -> Page:
        backend = self._session.backend
        if kind == "branch":
            return backend.list_agents(key, offset=offset, limit=limit)
        return backend.list_children(key or None, offset, limit)

    def _load_range(self, kind: str, key: str, count: int) -> tuple[list, int]:
        items: list = []
        total = 0
        while True:
            page = self._load_page(kind, key, len(items), min(REFRESH_CHUNK, count - len(items)))
            items.extend(page.items)
            total = page.total
            if len(items) >= min(count, total) or not page.items:
                return items, total

    def _page_arrived(self, node: TreeNode, generation: int, page: Page) -> None:
        self._user_loads.discard(node)
        if generation != self._generation or not self._attached(node):
            self._refresh_next()
            return
        node.failed = False
        fresh = [self._convert(item) for item in page.items]
        fresh = [n for n in fresh if n.key not in self._by_key]
        parent_index = self._index_of(node)
        # Consistent before the views hear of the rows: the total known, and still loading
        # so that a view reacting to the insertion does not ask for the next page yet.
        node.total = max(page.total, len(node.children) + len(fresh))
        if fresh:
            first = len(node.children)
            self.beginInsertRows(parent_index, first, first + len(fresh) - 1)
            for offset, child in enumerate(fresh):
                self._adopt(node, child, first + offset)
            self.endInsertRows()
        node.loading = False
        if node is not self._root and node.child_count != node.total:
            node.child_count = node.total
            self._changed(node)
        for item in self._added_while_loading.pop(node.key, []):
            self.add_item(node.key or None, item)
        self.pageLoaded.emit(parent_index)
        self._continue_reveal()
        self._refresh_next()

    def _page_failed(self, node: TreeNode, generation: int, exc: BaseException) -> None:
        self._user_loads.discard(node)
        if generation != self._generation:
            self._refresh_next()
            return
        node.loading = False
        node.failed = True
        self._reveal_chain = []
        self.loadFailed.emit(user_message(exc))
        self._refresh_next()

    def _refresh_arrived(self, generation: int, parent: TreeNode, result: tuple) -> None:
        if generation != self._generation:
            return
        self._refresh_job = None
        items, total = result
        if self._attached(parent):
            parent.stale = False
            self._apply_refresh(parent, [self._convert(i) for i in items], total)
            for item in items:
                if isinstance(item, OrgNode):
                    self.orgRefreshed.emit(item)
        self._refresh_next()

    def _refresh_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._stop_refresh()
        self.refreshFailed.emit(user_message(exc))

    def _apply_refresh(self, parent: TreeNode, fresh: list[TreeNode], total: int) -> None:
        current = {child.key: child for child in parent.children}
        renamed = []
        for node in fresh:
            old = current.get(node.key)
            if old is None:
                continue
            if old.name != node.name:
                renamed.append(old)
            if old.update_from(node):
                self._changed(old)
        for node in renamed:  # renamed elsewhere: into name order, like a rename here
            self._move_into_order(node)
        if parent.loading:
            return
        wanted = {node.key for node in fresh}
        parent_index = self._index_of(parent)
        for child in reversed(list(parent.children)):
            if child.key not in wanted:
                self.beginRemoveRows(parent_index, child.row, child.row)
                del parent.children[child.row]
                self._forget(child)
                for row in range(child.row, len(parent.children)):
                    parent.children[row].row = row
                self.endRemoveRows()
        new = [node for node in fresh if node.key not in current and node.key not in self._by_key]
        if new:
            first = len(parent.children)
            self.beginInsertRows(parent_index, first, first + len(new) - 1)
            for offset, child in enumerate(new):
                self._adopt(parent, child, first + offset)
            self.endInsertRows()
        parent.total = max(total, len(parent.children))
        if parent is not self._root and parent.child_count != total:
            parent.child_count = total
            self._changed(parent)

    def _continue_reveal(self) -> None:
        node = self._root
        for depth, key in enumerate(self._reveal_chain):
            child = self._by_key.get(key)
            if child is not None and child.parent is node:
                node = child
                continue
            parent_index = self._index_of(node)
            if node.loading:
                return
            if self.canFetchMore(parent_index):
                self.fetchMore(parent_index)
                return
            self._reveal_chain = []
            what = "That item" if depth == 0 else "The item"
            self.revealFailed.emit(f"{what} is no longer in the tree.")
            return
        if self._reveal_chain and node is not self._root:
            self._reveal_chain = []
            self.revealed.emit(self._index_of(node))

    # --- node bookkeeping --------------------------------------------------------------------

    def _node(self, index: AnyIndex) -> TreeNode:
        return index.internalPointer() if index.isValid() else self._root

    def _index_of(self, node: TreeNode, column: int = 0) -> QModelIndex:
        if node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def _attached(self, node: TreeNode) -> bool:
        return node is self._root or self._by_key.get(node.key) is node

    def _adopt(self, parent: TreeNode, child: TreeNode, row: int) -> None:
        child.parent, child.row = parent, row
        parent.children.append(child)
        self._by_key[child.key] = child

    def _forget(self, node: TreeNode) -> None:
        self._by_key.pop(node.key, None)
        for child in node.children:
            self._forget(child)

    def _changed(self, node: TreeNode) -> None:
        self.dataChanged.emit(self._index_of(node, 0), self._index_of(node, len(HEADERS) - 1))

    def _loaded_parents(self) -> list[TreeNode]:
        found, stack = [], [self._root]
        while stack:
            node = stack.pop()
            if node.total is not None or node.loading:
                found.append(node)
            stack.extend(c for c in node.children if c.kind != "agent")
        return found

    @staticmethod
    def _convert(item: OrgNode | AgentSummary) -> TreeNode:
        return node_from_agent(item) if isinstance(item, AgentSummary) else node_from_org(item)

    @staticmethod
    def _tooltip(node: TreeNode) -> str:
        label = KIND_LABELS[node.kind]
        if node.kind == "agent":
            lines = [f"{label} {node.name}", f"Status: {node.status_text}"]
            if node.detail:
                lines.append(f"IP: {node.detail}")
            return "\n".join(lines)
        lines = [f"{label} {node.name}", f"Org id: {node.key}"]
        if node.counts and node.counts.total:
            parts = [
                f"{node.counts.get(s)} {theme.STATUS_LABELS[s].lower()}"
                for s in AgentStatus
                if node.counts.get(s)
            ]
            lines.append(", ".join(parts))
        else:
            lines.append("No agents")
        return "\n".join(lines)
