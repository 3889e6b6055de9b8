"""How agent statuses look in the detail pane: a label, a colour and a round dot icon."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from argos_core.status import AgentStatus

LABELS: dict[AgentStatus, str] = {
    AgentStatus.ONLINE: "Online",
    AgentStatus.OFFLINE: "Offline",
    AgentStatus.OVERDUE: "Overdue",
    AgentStatus.NEVER_SEEN: "Never seen",
    AgentStatus.REVOKED: "Revoked",
}
COLORS: dict[AgentStatus, str] = {
    AgentStatus.ONLINE: "#1f9d55",
    AgentStatus.OFFLINE: "#e8890c",
    AgentStatus.OVERDUE: "#d64545",
    AgentStatus.NEVER_SEEN: "#7a8699",
    AgentStatus.REVOKED: "#9b59b6",
}
# Display order: the healthy state first, then the ones that need attention.
ORDER = (
    AgentStatus.ONLINE,
    AgentStatus.OFFLINE,
    AgentStatus.OVERDUE,
    AgentStatus.NEVER_SEEN,
    AgentStatus.REVOKED,
)


def color(status: AgentStatus) -> QColor:
    return QColor(COLORS[status])


@cache
def dot_icon(status: AgentStatus, size: int = 12) -> QIcon:
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color(status))
    painter.drawEllipse(QRectF(1.5, 1.5, size - 3, size - 3))
    painter.end()
    return QIcon(pixmap)
