"""How agent statuses look in the detail pane: a label, and the theme's colour and dot."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon

from argos_core.status import AgentStatus
from argos_desktop import icons, theme

LABELS: dict[AgentStatus, str] = {
    AgentStatus.ONLINE: "Online",
    AgentStatus.OFFLINE: "Offline",
    AgentStatus.OVERDUE: "Overdue",
    AgentStatus.NEVER_SEEN: "Never seen",
    AgentStatus.REVOKED: "Revoked",
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
    """The theme's colour for a status, so the pane matches the tree in light and dark."""
    return theme.current().status_color(status)


def color_name(status: AgentStatus) -> str:
    return color(status).name()


def dot_icon(status: AgentStatus) -> QIcon:
    return icons.status_dot(status)
