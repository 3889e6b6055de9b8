"""How agent statuses look in the detail pane: a label, and the theme's colour and dot."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon

from argos_core.settings import StatusPolicy
from argos_core.status import AgentStatus
from argos_desktop import icons, theme

LABELS: dict[AgentStatus, str] = {
    AgentStatus.ONLINE: "Online",
    AgentStatus.OFFLINE: "Offline",
    AgentStatus.OVERDUE: "Overdue",
    AgentStatus.NEVER_SEEN: "Never seen",
    AgentStatus.REVOKED: "Revoked",
}
_POLICY = StatusPolicy()
_ONLINE = f"two report intervals plus {_POLICY.grace_s} s"
_OVERDUE = f"{_POLICY.overdue_after_s // 60} min"
# What each word means: the thresholds of PROTOCOL.md, at the server's defaults.
MEANINGS: dict[AgentStatus, str] = {
    AgentStatus.ONLINE: (
        f"Reported within {_ONLINE} ({_POLICY.online_window_s} s at the default"
        f" {_POLICY.report_interval_s} s interval)."
    ),
    AgentStatus.OFFLINE: f"Silent for longer than {_ONLINE}, up to {_OVERDUE}.",
    AgentStatus.OVERDUE: f"Silent for more than {_OVERDUE}.",
    AgentStatus.NEVER_SEEN: "Enrolled, but has never reported.",
    AgentStatus.REVOKED: "Its credential was revoked: it can no longer report.",
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
