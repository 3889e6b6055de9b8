"""The console's main window: toolbar, fleet tree (left), detail pane (right), status bar."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QByteArray, QEvent, QRect, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from argos_core.status import AgentStatus
from argos_desktop import icons, theme
from argos_desktop.admin.admin_actions import AdminActions
from argos_desktop.alerts.alert_console import AlertConsole
from argos_desktop.backend.protocol import ServerHealth
from argos_desktop.detail.detail_pane import DetailPane
from argos_desktop.detail.widgets import ElidedLabel
from argos_desktop.fleet_panel import FleetPanel
from argos_desktop.log_file import log_file_path
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.theme import ThemeManager
from argos_desktop.version import argos_version
from argos_desktop.workers import run_in_pool

REFRESH_CHOICES: tuple[tuple[str, int], ...] = (
    ("Every 5 s", 5),
    ("Every 10 s", 10),
    ("Every 30 s", 30),
    ("Every minute", 60),
    ("Every 5 minutes", 300),
)
DEFAULT_REFRESH_S = 10
# Narrower than this, the toolbar's buttons show icons only (their tooltips name them), so
# the search box keeps its width at 1024 x 700 and at the window's minimum width.
COMPACT_TOOLBAR_BELOW_PX = 1200
# The fleet tree's share of a first window: room for an agent's hostname four levels down.
FLEET_WIDTH_PX = (400, 600)
SETTINGS_INTERVAL = "view/refresh_interval_s"
SETTINGS_PAUSED = "view/refresh_paused"
DEMO_NOTE_MIN_PX = 160  # the demo's note keeps a few words however narrow the window
SETTINGS_THEME = "view/theme"  # "light", "dark" or "" (follow the system)
THEME_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("Follow the system", None),
    ("Light", "light"),
    ("Dark", "dark"),
)
SETTINGS_TREE = "view/tree_state"  # expanded nodes and the selection, for the next start
NOT_REFRESHED = "Not refreshed yet"

DetailFactory = Callable[[ConsoleSession, QWidget], QWidget]


class MainWindow(QMainWindow):
    refreshed = Signal()
    healthChecked = Signal(object)  # the ServerHealth, or None without a server
    signOutRequested = Signal()

    def __init__(
        self,
        session: ConsoleSession,
        settings: QSettings,
        refresh_timer: QTimer | None = None,
        detail_factory: DetailFactory = DetailPane,
        page_size: int | None = None,
        themes: ThemeManager | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self._settings = settings
        self._themes = themes
        self.setWindowTitle(f"Argos Console — {session.label}")
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(QSize(900, 560))

        self.fleet = FleetPanel(session, page_size=page_size)
        self.detail = detail_factory(session, None)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="mainSplitter")
        self.splitter.addWidget(self.fleet)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([540, 900])
        self.splitter.setChildrenCollapsible(False)
        self.banner = QLabel(objectName="problemBanner", wordWrap=True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setVisible(False)
        self._problems: dict[str, str] = {}
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.timer = refresh_timer if refresh_timer is not None else QTimer(self)
        self.timer.timeout.connect(self.refresh_now)

        self.admin = AdminActions(session, self.fleet, self, settings)
        self.alerts = AlertConsole(session, self.fleet.tree, self)
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self._restore_settings()

    # --- building ----------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", objectName="mainToolBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

        brand = QLabel(objectName="brandLabel")
        brand.setText("Argos")
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(22, 22))
        bar.addWidget(logo)
        bar.addWidget(brand)

        self.refresh_action = QAction(icons.icon("refresh"), "Refresh", self)
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_action.setToolTip("Refresh statuses now (F5)")
        self.refresh_action.triggered.connect(self.refresh_now)
        bar.addAction(self.refresh_action)

        self.pause_action = QAction(icons.icon("pause"), "Pause", self, checkable=True)
        self.pause_action.setShortcut(QKeySequence("Ctrl+P"))
        self.pause_action.setToolTip("Pause or resume the live refresh (Ctrl+P)")
        self.pause_action.toggled.connect(self.set_paused)
        bar.addAction(self.pause_action)

        self.interval_box = QComboBox(objectName="intervalBox")
        self.interval_box.setToolTip("How often statuses refresh")
        for label, seconds in REFRESH_CHOICES:
            self.interval_box.addItem(icons.icon("clock"), label, seconds)
        bar.addWidget(self.interval_box)
        bar.addSeparator()
        self.new_button = new_button = QToolButton(objectName="newButton")
        new_button.setMenu(self.admin.new_menu)
        new_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        new_button.setIcon(icons.icon("tenant"))
        new_button.setText("New")
        new_button.setToolTip("Create a tenant, company or branch")
        new_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addWidget(new_button)
        bar.addAction(self.admin.users)
        bar.addAction(self.admin.audit)

        bar.addSeparator()
        self.status_filter = QComboBox(objectName="statusFilter")
        self.status_filter.setToolTip("Show only agents in this status")
        self.status_filter.addItem(icons.icon("filter"), "Any status", None)
        for status in (
            AgentStatus.OVERDUE,
            AgentStatus.OFFLINE,
            AgentStatus.NEVER_SEEN,
            AgentStatus.REVOKED,
            AgentStatus.ONLINE,
        ):
            self.status_filter.addItem(
                icons.status_dot(status), theme.STATUS_LABELS[status], status
            )
        bar.addWidget(self.status_filter)

        self.search_box = QLineEdit(objectName="searchBox")
        self.search_box.setPlaceholderText("Search name, org id, hostname or IP…  (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search_box.setAccessibleName("Search")
        self.search_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.search_box.installEventFilter(self)
        bar.addWidget(self.search_box)

        find = QAction(self)
        find.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        find.triggered.connect(self.focus_search)
        self.addAction(find)
        focus_tree = QAction(self)
        focus_tree.setShortcut(QKeySequence("Alt+1"))
        focus_tree.triggered.connect(lambda: self.fleet.tree.setFocus())
        self.addAction(focus_tree)
        focus_detail = QAction(self)
        focus_detail.setShortcut(QKeySequence("Alt+2"))
        focus_detail.triggered.connect(lambda: self.detail.setFocus())
        self.addAction(focus_detail)

    def _build_menus(self) -> None:
        admin = self.admin
        bar = self.menuBar()
        fleet = bar.addMenu("&Fleet")
        fleet.addAction(self.refresh_action)
        fleet.addSeparator()
        fleet.addMenu(admin.new_menu)
        fleet.addActions([admin.rename, admin.delete])
        fleet.addSeparator()
        fleet.addAction(admin.enrollment)
        fleet.addSeparator()
        fleet.addActions([admin.move_agent, admin.revoke_agent, admin.delete_agent])
        fleet.addSeparator()
        quit_action = fleet.addAction("&Quit")
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        bar.addMenu("A&lerts").addActions(self.alerts.actions)
        manage = bar.addMenu("&Administration")
        manage.addActions([admin.users, admin.audit])
        view = bar.addMenu("&View")
        theme_menu = view.addMenu("&Theme")
        self.theme_actions = QActionGroup(self)
        for label, name in THEME_CHOICES:
            chosen = theme_menu.addAction(label)
            chosen.setCheckable(True)
            chosen.setData(name)
            chosen.setChecked(self._themes is not None and self._themes.choice == name)
            chosen.setEnabled(self._themes is not None)
            chosen.triggered.connect(lambda _c=False, n=name: self.choose_theme(n))
            self.theme_actions.addAction(chosen)
        account = bar.addMenu("&Account")
        account.addActions([admin.change_password, admin.own_sessions])
        account.addSeparator()
        self.sign_out_action = account.addAction("Sign &out")
        self.sign_out_action.setToolTip("Back to the sign-in form, e.g. to switch user or server")
        self.sign_out_action.triggered.connect(self.signOutRequested)
        help_menu = bar.addMenu("&Help")
        self.about_action = help_menu.addAction("&About Argos Console…")
        self.about_action.triggered.connect(self.show_about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(True)
        # Cut short with "…" when the window is narrow; the tooltip has the whole text.
        self.connection_label = ElidedLabel(objectName="statusConnection")
        self.user_label = ElidedLabel(objectName="statusUser")
        self.refresh_label = QLabel(NOT_REFRESHED, objectName="statusRefresh")
        self.demo_label = ElidedLabel(objectName="demoNote")
        self.demo_label.setVisible(False)
        self.demo_label.setMinimumWidth(DEMO_NOTE_MIN_PX)
        self.health_label = QLabel(objectName="statusHealth")
        self.health_label.setVisible(False)
        bar.addWidget(self.connection_label)
        bar.addWidget(self.health_label)
        bar.addWidget(self.user_label)
        bar.addWidget(self.demo_label, 1)
        bar.addPermanentWidget(self.refresh_label)
        self.set_connection_ok(True)
        who = self.session.identity
        self.user_label.setText(f"Signed in as {who.username} ({who.role}, {who.scope_label})")

    def _connect(self) -> None:
        self.fleet.nodeSelected.connect(self.detail.show_node)
        self.fleet.selectionCleared.connect(self.detail.clear)
        self.fleet.problem.connect(self.show_problem)
        self.fleet.model.refreshed.connect(self._refreshed)
        self.fleet.model.refreshFailed.connect(self._refresh_failed)
        self.fleet.model.pageLoaded.connect(self._page_loaded)
        self.detail.agentActivated.connect(self.fleet.select_key)
        self.fleet.model.orgRefreshed.connect(self.detail.node_arrived)
        self.admin.changed.connect(self.detail.refresh)
        self.search_box.textChanged.connect(self._search_changed)
        self.search_box.returnPressed.connect(
            lambda: self.fleet.search_entered(self.search_box.text(), self.chosen_status())
        )
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.fleet.set_search(
                self.search_box.text(), self.chosen_status(), immediately=True
            )
        )
        self.interval_box.currentIndexChanged.connect(self._interval_chosen)

    # --- behaviour ---------------------------------------------------------------------------

    def start(self) -> None:
        """Load the top level of the tree and start the live refresh."""
        self.fleet.start()
        self.check_health()
        self.alerts.refresh()
        self._apply_timer()

    def refresh_now(self) -> None:
        self.fleet.refresh()
        self.alerts.refresh()
        shown = self.detail.current
        self.detail.refresh(
            node_follows=shown is not None and self.fleet.model.refreshing(shown[1])
        )
        self.check_health()

    def check_health(self) -> None:
        """Ask the server how it is (with each refresh); a problem shows as a banner."""
        backend = self.session.backend
        run_in_pool(backend.server_health, self._health_arrived, self._health_failed)

    def _health_arrived(self, health: ServerHealth | None) -> None:
        self.health_label.setVisible(health is not None)
        if health is not None:
            self.health_label.setText("● Server healthy" if health.ok else "● Server problem")
            self.health_label.setToolTip(health.text)
            self.health_label.setProperty("state", "ok" if health.ok else "error")
            self.health_label.style().unpolish(self.health_label)
            self.health_label.style().polish(self.health_label)
            self.set_problem("health", "" if health.ok else health.text)
        self.healthChecked.emit(health)

    def _health_failed(self, exc: BaseException) -> None:
        self.set_problem("health", user_message(exc))
        self.healthChecked.emit(None)

    def set_problem(self, source: str, text: str) -> None:
        """Show (or with ``""`` clear) a problem in the banner above the tree and detail."""
        if text:
            self._problems[source] = text
        else:
            self._problems.pop(source, None)
        self.banner.setText("  ·  ".join(dict.fromkeys(self._problems.values())))
        self.banner.setVisible(bool(self._problems))

    def set_paused(self, paused: bool) -> None:
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)
        self.pause_action.setIcon(icons.icon("play" if paused else "pause"))
        self.pause_action.setText("Resume" if paused else "Pause")
        self._settings.setValue(SETTINGS_PAUSED, paused)
        self._apply_timer()

    def is_paused(self) -> bool:
        return self.pause_action.isChecked()

    def set_interval(self, seconds: int) -> None:
        row = self.interval_box.findData(seconds)
        if row < 0:
            self.interval_box.addItem(icons.icon("clock"), f"Every {seconds} s", seconds)
            row = self.interval_box.count() - 1
        self.interval_box.setCurrentIndex(row)

    def _interval_chosen(self, _row: int) -> None:
        self._settings.setValue(SETTINGS_INTERVAL, self.interval_box.currentData())
        self._apply_timer()

    def _apply_timer(self) -> None:
        seconds = int(self.interval_box.currentData() or DEFAULT_REFRESH_S)
        self.timer.setInterval(seconds * 1000)
        if self.is_paused():
            self.timer.stop()
            self.refresh_label.setText("Live refresh paused")
        else:
            self.timer.start()

    def resizeEvent(self, event) -> None:
        self._fit_toolbar()
        super().resizeEvent(event)

    def _fit_toolbar(self) -> None:
        compact = self.width() < COMPACT_TOOLBAR_BELOW_PX
        style = (
            Qt.ToolButtonStyle.ToolButtonIconOnly
            if compact
            else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        )
        if self.toolbar.toolButtonStyle() != style:
            self.toolbar.setToolButtonStyle(style)
            self.new_button.setToolButtonStyle(style)

    def chosen_status(self) -> AgentStatus | None:
        value = self.status_filter.currentData()
        return AgentStatus(value) if value else None

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and (
            self.search_box.text() or self.status_filter.currentIndex()
        ):
            self.search_box.clear()
            self.status_filter.setCurrentIndex(0)
            self.fleet.tree.setFocus()
            return
        super().keyPressEvent(event)

    def eventFilter(self, watched, event) -> bool:
        if (
            watched is self.search_box
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
        ):
            self.fleet.focus_list()
            return True
        return super().eventFilter(watched, event)

    def _search_changed(self, text: str) -> None:
        self.fleet.set_search(text, self.chosen_status())

    def _refreshed(self, at: datetime) -> None:
        self.set_connection_ok(True)
        self.statusBar().clearMessage()
        local = at.astimezone().strftime("%H:%M:%S")
        suffix = " (paused)" if self.is_paused() else ""
        self.refresh_label.setText(f"Last refresh {local}{suffix}")
        self.refreshed.emit()

    def _page_loaded(self, parent) -> None:
        self.set_connection_ok(True)
        if not parent.isValid() and self.refresh_label.text() == NOT_REFRESHED:
            self.refresh_label.setText(f"Loaded {datetime.now().strftime('%H:%M:%S')}")

    def _refresh_failed(self, message: str) -> None:
        self.set_connection_ok(False, message)

    def set_connection_ok(self, ok: bool, message: str = "") -> None:
        self.set_problem("connection", "" if ok else message)
        label = self.session.label
        text = f"● Connected · {label}" if ok else f"● Connection problem · {message}"
        self.connection_label.set_value(text, label if ok else message)
        self.connection_label.setProperty("state", "ok" if ok else "error")
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)

    def show_problem(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def choose_theme(self, name: str | None) -> None:
        """Light, dark or (None) the system's; remembered for the next start."""
        if self._themes is not None:
            self._themes.choose(name)
        self._settings.setValue(SETTINGS_THEME, name or "")

    def about_text(self) -> str:
        who = self.session.identity
        where = (
            f"Argos server: {self.session.server_url}<br>Database: the server's"
            if self.session.server_url
            else f"Database: {self.session.label} (read directly)"
        )
        return (
            f"<b>Argos Console {argos_version()}</b><br>Multi-tenant endpoint monitoring."
            f"<br><br>{where}<br>Signed in as {who.username} ({who.role}, {who.scope_label})"
            f"<br>Log file: {log_file_path() or 'none'}"
        )

    def show_about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.NoIcon, "About Argos Console", self.about_text(), parent=self
        )
        box.setIconPixmap(icons.app_icon().pixmap(48, 48))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()
        self.about_box = box

    def set_demo_note(self, text: str) -> None:
        self.demo_label.setText(text)
        self.demo_label.setVisible(bool(text))

    # --- settings ----------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.fit_to_screen()
        state = s.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        header = s.value("window/tree_header")
        if isinstance(header, QByteArray):
            self.fleet.tree.header().restoreState(header)
        try:
            tree_state = json.loads(str(s.value(SETTINGS_TREE, "{}")))
        except ValueError:
            tree_state = {}
        if isinstance(tree_state, dict):
            self.fleet.restore_tree_state(tree_state)
        try:
            seconds = int(s.value(SETTINGS_INTERVAL, DEFAULT_REFRESH_S))
        except (TypeError, ValueError):
            seconds = DEFAULT_REFRESH_S
        self.interval_box.blockSignals(True)
        self.set_interval(seconds)
        self.interval_box.blockSignals(False)
        paused = str(s.value(SETTINGS_PAUSED, "false")).lower() == "true"
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)
        self.pause_action.setIcon(icons.icon("play" if paused else "pause"))
        self.pause_action.setText("Resume" if paused else "Pause")

    def fit_to_screen(self, available: QRect | None = None) -> None:
        """First start: most of the screen (``available``: the screen's free area)."""
        screen = available if available is not None else self.screen().availableGeometry()
        width = max(self.minimumWidth(), min(1680, int(screen.width() * 0.92)))
        height = max(self.minimumHeight(), min(1050, int(screen.height() * 0.92)))
        self.resize(width, height)
        self.move(screen.center() - self.rect().center())
        fleet = min(FLEET_WIDTH_PX[1], max(FLEET_WIDTH_PX[0], int(width * 0.36)))
        self.splitter.setSizes([fleet, width - fleet])

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/tree_header", self.fleet.tree.header().saveState())
        s.setValue(SETTINGS_TREE, json.dumps(self.fleet.tree_state()))
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        self.alerts.close()
        self.save_settings()
        super().closeEvent(event)
