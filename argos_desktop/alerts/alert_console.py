"""The alert views of one main window, built together: the watch they share, the problems
window, the tray icon, the badges on the fleet tree, and the editors of rules, notification
channels and maintenance windows."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QTreeView, QWidget

from argos_desktop.alerts.alert_badges import AlertBadgeDelegate
from argos_desktop.alerts.alert_tray import AlertTray
from argos_desktop.alerts.alert_watch import AlertWatch
from argos_desktop.alerts.channels_dialog import ChannelsDialog
from argos_desktop.alerts.maintenance_dialog import MaintenanceDialog
from argos_desktop.alerts.problems_view import ProblemsView
from argos_desktop.alerts.record_editor import RecordEditor
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
        self.channels_dialog: ChannelsDialog | None = None
        self.channels_action = QAction("Notification &channels…", window)
        self.channels_action.setToolTip("Webhooks and e-mail addresses that nodes' alerts go to")
        self.channels_action.triggered.connect(self.show_channels)
        self.maintenance_dialog: MaintenanceDialog | None = None
        self.maintenance_action = QAction("&Maintenance windows…", window)
        self.maintenance_action.setToolTip("One-time and recurring times without notifications")
        self.maintenance_action.triggered.connect(self.show_maintenance)
        self.actions = [
            self.show_action,
            self.rules_action,
            self.channels_action,
            self.maintenance_action,
        ]

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

    def show_channels(self) -> None:
        if self.channels_dialog is None:
            self.channels_dialog = ChannelsDialog(self._session, self._window)
        else:
            self.channels_dialog.reload()
        _raise(self.channels_dialog)

    def show_maintenance(self) -> None:
        if self.maintenance_dialog is None:
            self.maintenance_dialog = MaintenanceDialog(self._session, self._window)
            self.maintenance_dialog.changed.connect(lambda _: self.watch.refresh())
        else:
            self.maintenance_dialog.reload()
        _raise(self.maintenance_dialog)

    def close(self) -> None:
        self.tray.hide()
        self.problems.close()


def _raise(dialog: RecordEditor) -> None:
    dialog.show()
    dialog.raise_()
