"""The alert views of one main window, built together: the watch they share, the problems
window, the tray icon, the badges on the fleet tree, and the rules dialog."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QTreeView, QWidget

from argos_desktop.alerts.alert_badges import AlertBadgeDelegate
from argos_desktop.alerts.alert_tray import AlertTray
from argos_desktop.alerts.alert_watch import AlertWatch
from argos_desktop.alerts.problems_view import ProblemsView
from argos_desktop.alerts.rules_dialog import RulesDialog
from argos_desktop.session import ConsoleSession


class AlertConsole(QObject):
    def __init__(self, session: ConsoleSession, tree: QTreeView, window: QWidget) -> None:
        super().__init__(window)
        self.watch = AlertWatch(session.backend, self)
        self.problems = ProblemsView(session, self.watch, window)
        self.problems.setWindowFlags(Qt.WindowType.Window)
        self.problems.resize(900, 420)
        self.tray = AlertTray(self.watch, self)
        self.badges = AlertBadgeDelegate(self.watch, tree)
        tree.setItemDelegateForColumn(0, self.badges)
        self.watch.changed.connect(tree.viewport().update)
        self.show_action = QAction("&Problems…", window)
        self.show_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.show_action.setToolTip("Open alerts of your scope; acknowledge them (Ctrl+Shift+P)")
        self.show_action.triggered.connect(self.show_problems)
        self.tray.openProblems.connect(self.show_problems)
        self._session, self._window = session, window
        self.rules_dialog: RulesDialog | None = None
        self.rules_action = QAction("Alert &rules…", window)
        self.rules_action.setToolTip("Rules of your scope and those set above it; new rules")
        self.rules_action.triggered.connect(self.show_rules)
        self.actions = [self.show_action, self.rules_action]

    def refresh(self) -> None:
        self.watch.refresh()

    def show_problems(self) -> None:
        self.problems.show()
        self.problems.raise_()
        self.problems.activateWindow()

    def show_rules(self) -> None:
        if self.rules_dialog is None:
            self.rules_dialog = RulesDialog(self._session, self._window)
        else:
            self.rules_dialog.reload()
        self.rules_dialog.show()
        self.rules_dialog.raise_()

    def close(self) -> None:
        self.tray.hide()
        self.problems.close()
