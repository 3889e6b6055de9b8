"""The tray icon: a dot coloured by the worst open alert (green: none), a tooltip counting
them, and a desktop notification for each new critical alert; clicking it opens the
problems list."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QSystemTrayIcon

from argos_core.services.alert_dto import AlertInfo
from argos_desktop.alerts.alert_watch import AlertWatch
from argos_desktop.alerts.severity import colour

ICON_PX = 32
NOTIFICATION_MS = 15_000


def dot_icon(fill: QColor) -> QIcon:
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(fill.darker(140))
    painter.setBrush(fill)
    radius = ICON_PX / 2 - 2
    painter.drawEllipse(QPointF(ICON_PX / 2, ICON_PX / 2), radius, radius)
    painter.end()
    return QIcon(pixmap)


class AlertTray(QObject):
    notified = Signal(str, str)  # title, text: each desktop notification
    openProblems = Signal()

    def __init__(self, watch: AlertWatch, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watch = watch
        self.icon = QSystemTrayIcon(self)
        self.severity: str | None = None
        self._show_state()
        self.icon.activated.connect(lambda _reason: self.openProblems.emit())
        self.icon.messageClicked.connect(self.openProblems)
        watch.changed.connect(self._show_state)
        watch.newCritical.connect(self._notify)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def _show_state(self) -> None:
        alerts = self._watch.alerts
        self.severity = self._watch.worst()
        self.icon.setIcon(dot_icon(colour(self.severity)))
        critical = sum(1 for a in alerts if a.severity == "critical")
        if not alerts:
            self.icon.setToolTip("Argos: no open alerts")
        else:
            self.icon.setToolTip(f"Argos: {len(alerts)} open alerts ({critical} critical)")

    def _notify(self, alert: AlertInfo) -> None:
        title = f"Critical: {alert.hostname}"
        text = f"{alert.rule}\n{alert.path}"
        self.notified.emit(title, text)
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(
                title, text, QSystemTrayIcon.MessageIcon.Critical, NOTIFICATION_MS
            )

    def hide(self) -> None:
        self.icon.hide()
