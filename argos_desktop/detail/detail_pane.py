"""The console's right-hand pane: whatever is selected in the org tree, in detail.

The shell embeds one ``DetailPane`` and drives it with ``show_node``, ``clear`` and
``refresh`` (on each live-refresh tick). Every service call runs on a worker thread; the
pane never blocks the GUI and ignores answers that arrive after the user moved on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from argos_core.errors import ArgosError, NotFound, ScopeViolation
from argos_core.services.dto import OrgNode
from argos_desktop.detail.agent_view import AgentView
from argos_desktop.detail.node_charts import NodeHistory
from argos_desktop.detail.org_view import OrgView, page_loader
from argos_desktop.detail.widgets import caption_label, heading_label
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import Requests

ORG_KINDS = ("tenant", "company", "branch")
KINDS = (*ORG_KINDS, "agent")
# The chart's axis and margins take this much of the pane's width.
CHART_CHROME_PX = 110


class MessagePage(QWidget):
    """A centred title and explanation, for empty selections and errors."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = heading_label("", 1.3)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = caption_label()
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addStretch(2)

    def show_message(self, title: str, text: str) -> None:
        self.title.setText(title)
        self.text.setText(text)


def describe_error(exc: BaseException, what: str) -> tuple[str, str]:
    """A title and a sentence for people; service errors already carry one."""
    if isinstance(exc, NotFound | ScopeViolation):
        return (
            f"Cannot show this {what}",
            f"{exc} It may have been deleted, or lie outside your scope.",
        )
    if isinstance(exc, ArgosError):
        return f"Cannot show this {what}", str(exc)
    return f"Cannot show this {what}", f"Unexpected error: {exc or type(exc).__name__}"


class DetailPane(QWidget):
    """Summary and agents of a tenant/company/branch, or inventory and charts of an agent.

    ``agentActivated(uuid)`` fires when the user double-clicks an agent in the table.
    ``loaded`` fires when what ``show_node`` asked for is on screen (or its error is).
    ``clock`` and ``pool`` are injectable for tests.
    """

    agentActivated = Signal(str)
    loaded = Signal()

    def __init__(
        self,
        session: ConsoleSession,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._clock = clock
        if pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(2)
        self._pool = pool
        self.requests = Requests(pool, self)
        self._current: tuple[str, str] | None = None
        self._failed = False
        self._announce_loaded = False
        self._parent_name: str | None = None

        self.placeholder = MessagePage()
        self.placeholder.show_message(
            "Nothing selected", "Select a tenant, company, branch or agent in the tree."
        )
        self.message_page = MessagePage()
        self.node_history = NodeHistory(self.requests, clock)
        self.org_view = OrgView(self._run_agents_page, self.node_history)
        self._agent_view: AgentView | None = None
        self.stack = QStackedWidget()
        for page in (self.placeholder, self.message_page, self.org_view):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.org_view.agentActivated.connect(self.agentActivated)
        self.node_history.agentActivated.connect(self.agentActivated)
        self.org_view.filtersChanged.connect(self._reload_agents)
        self.requests.idle.connect(self._idle)

    # --- the agreed interface --------------------------------------------------------------

    def show_node(self, kind: str, key: str) -> None:
        """Show a tenant/company/branch (``key`` = org id) or an agent (``key`` = uuid)."""
        if kind not in KINDS:
            raise ValueError(f"Unknown node kind '{kind}'.")
        if self._current == (kind, key) and not self._failed:
            return
        self.requests.cancel()
        self._current = (kind, key)
        self._failed = False
        self._parent_name = None
        self._announce_loaded = True
        if kind == "agent":
            self._show_agent(key)
        else:
            self._show_org(key)

    def clear(self) -> None:
        self.requests.cancel()
        self._current = None
        self._failed = False
        self.org_view.set_agent_source(None)
        self._stop_charts()
        self.stack.setCurrentWidget(self.placeholder)

    def refresh(self, *, node_follows: bool = False) -> None:
        """Update what is shown in place, keeping range, zoom, sort and selection.

        ``node_follows``: the tree's refresh is reading the shown tenant, company or branch
        and hands it to ``node_arrived``, so it is not asked for again here.
        """
        if self._current is None:
            return
        kind, key = self._current
        if self._failed:
            self._current = None
            self.show_node(kind, key)
            return
        if kind == "agent":
            self._fetch_agent(key, first=False)
            self.agent_view.charts.refresh()
            self._fetch_alert_marks(key)
        else:
            if not node_follows:
                self._fetch_node(key, first=False)
            self.org_view.refresh()
            self.node_history.refresh()

    def node_arrived(self, node: OrgNode) -> None:
        """A tenant, company or branch read elsewhere (the tree's refresh): shown if it is
        the one shown, once its first load (with its parent's name) is on screen."""
        if (
            self._current == (node.kind, node.org_id)
            and not self._failed
            and self._parent_name is not None
        ):
            self.org_view.set_node(node, self._parent_name)

    # --- state for the shell and tests ----------------------------------------------------

    @property
    def agent_view(self) -> AgentView:
        """Built when first needed: its five pyqtgraph charts cost more than half of the
        main window's start-up, and many sessions never open an agent."""
        if self._agent_view is None:
            self._agent_view = AgentView(self.requests, self._clock)
            self.stack.addWidget(self._agent_view)
        return self._agent_view

    def _stop_charts(self) -> None:
        if self._agent_view is not None:
            self._agent_view.charts.set_source(None)
        self.node_history.clear()

    @property
    def current(self) -> tuple[str, str] | None:
        return self._current

    @property
    def busy(self) -> bool:
        return self.requests.busy

    def message(self) -> str:
        """The message shown in place of the detail, if any."""
        if self.stack.currentWidget() is not self.message_page:
            return ""
        return f"{self.message_page.title.text()}\n{self.message_page.text.text()}"

    # --- org nodes -------------------------------------------------------------------------

    def _show_org(self, org_id: str) -> None:
        self._stop_charts()
        self.org_view.reset_filters()
        self._fetch_node(org_id, first=True)
        self._reload_agents()
        backend = self._session.backend
        self.node_history.set_node(
            lambda start, end, max_points: backend.node_aggregate(
                org_id, start, end, max_points=max_points
            ),
            lambda metric, start, end: backend.top_agents(org_id, metric, start, end),
            org_id,
        )

    def _fetch_node(self, org_id: str, *, first: bool) -> None:
        """The node, and once per selection its parent's name (a refresh reuses it)."""
        backend = self._session.backend
        known = None if first else self._parent_name

        def load() -> tuple[OrgNode, str]:
            node = backend.get_node(org_id)
            if known is not None or not node.parent_org_id:
                return node, known or ""
            return node, backend.get_node(node.parent_org_id).name

        def shown(answer: tuple[OrgNode, str]) -> None:
            node, self._parent_name = answer
            self.org_view.set_node(node, self._parent_name)
            if first:
                self.stack.setCurrentWidget(self.org_view)

        self.requests.run(
            "node",
            load,
            shown,
            lambda exc: self._show_error(exc, "node") if first else None,
        )

    def _reload_agents(self) -> None:
        if self._current is None or self._current[0] == "agent":
            return
        self.org_view.set_agent_source(
            page_loader(
                self._session.backend.list_agents,
                self._current[1],
                self.org_view.status_wanted(),
                self.org_view.text_wanted(),
            )
        )

    def _run_agents_page(self, fn, on_success, on_failure) -> None:
        self.requests.run("agents", fn, on_success, on_failure)

    # --- agents ----------------------------------------------------------------------------

    def _show_agent(self, uuid: str) -> None:
        self.org_view.set_agent_source(None)
        backend = self._session.backend
        charts = self.agent_view.charts
        charts.width_hint = max(self.width() - CHART_CHROME_PX, 300) * self.devicePixelRatioF()
        self._fetch_agent(uuid, first=True)
        charts.set_alert_marks([], [])
        self._fetch_alert_marks(uuid)
        charts.set_source(
            lambda start, end, max_points: backend.telemetry_range(
                uuid, start, end, max_points=max_points
            )
        )

    def _fetch_agent(self, uuid: str, *, first: bool) -> None:
        backend = self._session.backend

        def shown(detail) -> None:
            self.agent_view.set_agent(detail)
            if first:
                self.stack.setCurrentWidget(self.agent_view)

        self.requests.run(
            "agent",
            lambda: backend.get_agent(uuid),
            shown,
            lambda exc: self._show_error(exc, "agent") if first else None,
        )

    def _fetch_alert_marks(self, uuid: str) -> None:
        """The rules in force on the agent and its open alerts, drawn on its charts."""
        backend = self._session.backend

        def load():
            return backend.agent_rules(uuid), backend.list_alerts(node=uuid).items

        self.requests.run(
            "alert-marks",
            load,
            lambda found: self.agent_view.charts.set_alert_marks(*found),
            lambda _exc: None,  # the charts stand without them; the next refresh tries again
        )

    # --- common ----------------------------------------------------------------------------

    def _show_error(self, exc: BaseException, what: str) -> None:
        self._failed = True
        self.message_page.show_message(*describe_error(exc, what))
        self.stack.setCurrentWidget(self.message_page)
        self._stop_charts()
        self.org_view.set_agent_source(None)
        self.requests.cancel()

    def _idle(self) -> None:
        if self._announce_loaded:
            self._announce_loaded = False
            self.loaded.emit()
