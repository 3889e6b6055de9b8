"""The left side of the main window: the lazy org tree, or search results while searching."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from argos_core.status import AgentStatus
from argos_desktop.messages import user_message
from argos_desktop.org_tree_model import KEY_ROLE, KIND_ROLE, OrgTreeModel
from argos_desktop.org_tree_view import OrgTreeView
from argos_desktop.search_results_model import HIT_ROLE, SearchResultsModel
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

SEARCH_LIMIT = 200
LEVELS = ("tenant", "company", "branch", "agent")
# Long enough to skip the keystrokes of a word, short enough to leave the search its budget.
SEARCH_DELAY_MS = 150
# Name stretches; an org id and "93/102 online" fit the others (a long IP address is elided).
ORG_ID_COLUMN_PX = 92
STATUS_COLUMN_PX = 116
TREE_INDENT_PX = 16
MINIMUM_WIDTH_PX = 320


class FleetPanel(QFrame):
    nodeSelected = Signal(str, str)
    selectionCleared = Signal()
    searchFinished = Signal(int)
    problem = Signal(str)
    contextMenuWanted = Signal(QPoint)

    def __init__(
        self,
        session: ConsoleSession,
        page_size: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="sidePanel")
        self._session = session
        self.model = OrgTreeModel(session, **({"page_size": page_size} if page_size else {}))
        self.results = SearchResultsModel(self)
        self._search_generation = 0
        self._search: tuple[str, AgentStatus | None] = ("", None)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        self._first_page_seen = False
        self._reveal_single_hit = False  # Enter was pressed before the results arrived
        # Remembered from the last run: expanded as they load, the selection revealed.
        self._to_expand: set[str] = set()
        self._to_select: list[str] = []
        self._restoring_selection = False

        self.title = QLabel("FLEET", objectName="panelTitle")
        self.tree = OrgTreeView(objectName="orgTree")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(False)
        self.tree.setAnimated(False)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setAccessibleName("Fleet tree")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, ORG_ID_COLUMN_PX)
        header.resizeSection(2, STATUS_COLUMN_PX)
        self.tree.setIndentation(TREE_INDENT_PX)
        self.setMinimumWidth(MINIMUM_WIDTH_PX)
        self.tree.selectionModel().selectionChanged.connect(self._tree_selection_changed)
        self.model.follow_view(self.tree.isExpanded)
        self.tree.expanded.connect(self.model.node_expanded)

        self.banner = QLabel(objectName="searchBanner", wordWrap=True)
        self.result_view = QTreeView(objectName="searchResults")
        self.result_view.setModel(self.results)
        self.result_view.setRootIsDecorated(False)
        # "Tenant / Company / Branch": the tenant and the branch say most, elide between.
        self.result_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.result_view.setUniformRowHeights(True)
        self.result_view.setAllColumnsShowFocus(True)
        self.result_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.result_view.setAccessibleName("Search results")
        rheader = self.result_view.header()
        rheader.setStretchLastSection(True)
        rheader.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        rheader.resizeSection(0, 190)
        rheader.resizeSection(1, 120)
        self.result_view.selectionModel().selectionChanged.connect(self._result_selection_changed)
        self.result_view.activated.connect(self._result_activated)
        results_page = QWidget()
        results_layout = QVBoxLayout(results_page)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.setSpacing(0)
        results_layout.addWidget(self.banner)
        results_layout.addWidget(self.result_view, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(results_page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)

        for view in (self.tree, self.result_view):
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda pos, v=view: self.contextMenuWanted.emit(v.viewport().mapToGlobal(pos))
            )

        self.model.pageLoaded.connect(self._page_loaded)
        self.model.revealed.connect(self._revealed)
        self.model.revealFailed.connect(self._reveal_failed)
        self.model.loadFailed.connect(self.problem)

    # --- tree --------------------------------------------------------------------------------

    def start(self) -> None:
        self.model.fetchMore(QModelIndex())

    def _page_loaded(self, parent: QModelIndex) -> None:
        if self._to_expand:
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if index.data(KEY_ROLE) in self._to_expand:
                    self._to_expand.discard(index.data(KEY_ROLE))
                    self.tree.expand(index)
        if not parent.isValid() and not self._first_page_seen:
            self._first_page_seen = True
            if self.model.rowCount() == 1:  # a client admin: open their scope node
                self.tree.expand(self.model.index(0, 0))
            if not self.tree.currentIndex().isValid() and self.model.rowCount():
                self.tree.setCurrentIndex(self.model.index(0, 0))
            if self._to_select:
                self._restoring_selection = True
                self.reveal(self._to_select[:-1], self._to_select[-1])

    def tree_state(self) -> dict[str, list[str]]:
        """The expanded nodes' keys and the selected node's path, to restore next time."""
        expanded: list[str] = []
        pending = [QModelIndex()]
        while pending:
            parent = pending.pop()
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if self.tree.isExpanded(index):
                    expanded.append(index.data(KEY_ROLE))
                    pending.append(index)
        selected = (
            [key for _kind, key in self.current_path()]
            if self.stack.currentWidget() is self.tree
            else []
        )
        return {"expanded": expanded, "selected": selected}

    def restore_tree_state(self, state: dict[str, list[str]]) -> None:
        """Call before ``start``: expand these nodes as they load, then reveal the selection."""
        self._to_expand = {str(k) for k in state.get("expanded", [])}
        self._to_select = [str(k) for k in state.get("selected", [])]

    def _revealed(self, index: QModelIndex) -> None:
        self._restoring_selection = False
        self.select_index(index)

    def _reveal_failed(self, message: str) -> None:
        if self._restoring_selection:  # remembered from another fleet, or deleted since
            self._restoring_selection = False
            return
        self.problem.emit(message)

    def select_index(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        if self.stack.currentWidget() is not self.tree:
            self.stack.setCurrentWidget(self.tree)
        up = index.parent()
        while up.isValid():
            self.tree.expand(up)
            up = up.parent()
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def select_key(self, key: str) -> bool:
        """Select a node already loaded in the tree; False when it is not loaded."""
        index = self.model.index_for_key(key)
        if not index.isValid():
            return False
        self.select_index(index)
        return True

    def focus_list(self) -> None:
        """Move the keyboard into the visible list (results or tree), on its first row."""
        view = self.tree if self.stack.currentWidget() is self.tree else self.result_view
        view.setFocus()
        if not view.currentIndex().isValid() and view.model().rowCount():
            view.setCurrentIndex(view.model().index(0, 0))

    def current_node(self) -> tuple[str, str] | None:
        view = self.tree if self.stack.currentWidget() is self.tree else self.result_view
        index = view.currentIndex()
        if not index.isValid():
            return None
        return index.data(KIND_ROLE), index.data(KEY_ROLE)

    def current_path(self) -> list[tuple[str, str]]:
        """``(kind, key)`` from the top of the visible tree down to the current node."""
        if self.stack.currentWidget() is self.tree:
            path = []
            index = self.tree.currentIndex().siblingAtColumn(0)
            while index.isValid():
                path.append((index.data(KIND_ROLE), index.data(KEY_ROLE)))
                index = index.parent()
            return path[::-1]
        hit = self.result_view.currentIndex().siblingAtColumn(0).data(HIT_ROLE)
        if hit is None:
            return []
        top = LEVELS.index(hit.kind) - len(hit.path)
        return [(LEVELS[top + i], key) for i, key in enumerate(hit.path)] + [(hit.kind, hit.key)]

    def _tree_selection_changed(
        self, selected: QItemSelection, _deselected: QItemSelection
    ) -> None:
        indexes = selected.indexes()
        if indexes:
            self.nodeSelected.emit(indexes[0].data(KIND_ROLE), indexes[0].data(KEY_ROLE))
        elif not self.tree.selectionModel().hasSelection():
            self.selectionCleared.emit()

    def refresh(self) -> bool:
        """Refresh the tree, and the results while they are shown (a revealed hit stays)."""
        started = self.model.refresh()
        if self.is_searching() and self.stack.currentWidget() is not self.tree:
            self.run_search()
        return started

    # --- search ------------------------------------------------------------------------------

    def set_search(
        self, text: str, status: AgentStatus | None, *, immediately: bool = False
    ) -> None:
        self._search = (text.strip(), status)
        if not self.is_searching():
            self._search_timer.stop()
            self._search_generation += 1
            self.results.set_hits([])
            self.stack.setCurrentWidget(self.tree)
            current = self.tree.currentIndex()
            if current.isValid():
                self.nodeSelected.emit(current.data(KIND_ROLE), current.data(KEY_ROLE))
            return
        if immediately:
            self.run_search()
        else:
            self._search_timer.start()

    def search_entered(self, text: str, status: AgentStatus | None) -> None:
        """Enter in the search box: search now, and show a single hit in the tree."""
        answered = (
            (text.strip(), status) == self._search
            and self.stack.currentWidget() is not self.tree
            and not self._search_timer.isActive()
            and not self._reveal_single_hit
        )
        if answered and self.results.rowCount() == 1:
            self._result_activated(self.results.index(0, 0))
            return
        self._reveal_single_hit = True
        self.set_search(text, status, immediately=True)

    def is_searching(self) -> bool:
        text, status = self._search
        return bool(text) or status is not None

    def run_search(self) -> None:
        self._search_timer.stop()
        if not self.is_searching():
            return
        text, status = self._search
        self._search_generation += 1
        generation = self._search_generation
        backend = self._session.backend
        self.banner.setText("Searching…")
        self.stack.setCurrentIndex(1)
        run_in_pool(
            lambda: backend.search(text, status=status, limit=SEARCH_LIMIT),
            lambda hits: self._search_arrived(generation, text, status, hits),
            lambda exc: self._search_failed(generation, exc),
        )

    def _search_arrived(self, generation: int, text: str, status, hits: list) -> None:
        if generation != self._search_generation:
            return
        selected = self.current_node() if self.stack.currentIndex() == 1 else None
        self.results.set_hits(hits)
        what = f"“{text}”" if text else "all agents"
        if status is not None:
            what += f" that are {status.value.replace('_', ' ')}"
        count = f"{len(hits)}+" if len(hits) >= SEARCH_LIMIT else str(len(hits))
        self.banner.setText(
            f"{count} result{'s' if len(hits) != 1 else ''} for {what}"
            "  ·  Enter shows it in the tree, Esc closes"
        )
        if selected is not None:
            for row in range(self.results.rowCount()):
                if self.results.hit(row).key == selected[1]:
                    self.result_view.setCurrentIndex(self.results.index(row, 0))
                    break
        reveal, self._reveal_single_hit = self._reveal_single_hit, False
        self.searchFinished.emit(len(hits))
        if reveal and len(hits) == 1:
            self._result_activated(self.results.index(0, 0))

    def _search_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._search_generation:
            self._reveal_single_hit = False
            self.banner.setText(user_message(exc))
            self.problem.emit(user_message(exc))

    def _result_selection_changed(self, selected: QItemSelection, _d: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            self.nodeSelected.emit(indexes[0].data(KIND_ROLE), indexes[0].data(KEY_ROLE))

    def _result_activated(self, index: QModelIndex) -> None:
        hit = index.data(HIT_ROLE)
        if hit is not None:
            self.reveal(hit.path, hit.key)

    def reveal(self, path: list[str], key: str) -> None:
        """Show a node in the tree, loading its ancestors as needed."""
        if not self.select_key(key):
            self.stack.setCurrentWidget(self.tree)
            self.model.reveal(path, key)
