"""Light and dark look of the console, following the system's colour scheme.

One palette dict per scheme feeds the Fusion ``QPalette``, the style sheet template
(``resources/styles/console.qss``) and the status colours the tree, tables and charts use.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from argos_core.status import AgentStatus
from argos_desktop.resources import read_text

LIGHT = {
    "window": "#f3f5f8",
    "panel": "#fbfcfd",
    "base": "#ffffff",
    "alt_base": "#f7f9fb",
    "text": "#1d2530",
    "muted": "#5f6b7a",
    "border": "#dde2e8",
    "hover": "#eef3fa",
    "selected_soft": "#dce8fc",
    "accent": "#2f6fe4",
    "accent_hover": "#245bc4",
    "scroll": "#c5ccd6",
    "error_soft": "#fdecea",
    "icon": "#46505e",
    "online": "#1f9d55",
    "offline": "#e07b00",
    "overdue": "#d93a33",
    "never_seen": "#8a94a3",
    "revoked": "#8b5cc7",
}

DARK = {
    "window": "#1b1f24",
    "panel": "#22272e",
    "base": "#181b20",
    "alt_base": "#1d2127",
    "text": "#e2e6ec",
    "muted": "#97a1ae",
    "border": "#303741",
    "hover": "#262c34",
    "selected_soft": "#1f3a66",
    "accent": "#3b82f6",
    "accent_hover": "#5b97f8",
    "scroll": "#3d4550",
    "error_soft": "#3a1f1f",
    "icon": "#c3cad4",
    "online": "#34c374",
    "offline": "#f39c32",
    "overdue": "#f2605a",
    "never_seen": "#9aa4b3",
    "revoked": "#a985e3",
}

STATUS_LABELS: dict[AgentStatus, str] = {
    AgentStatus.ONLINE: "Online",
    AgentStatus.OFFLINE: "Offline",
    AgentStatus.OVERDUE: "Overdue",
    AgentStatus.NEVER_SEEN: "Never seen",
    AgentStatus.REVOKED: "Revoked",
}


@dataclass(frozen=True)
class Theme:
    name: str
    colors: dict[str, str]

    def color(self, key: str) -> QColor:
        return QColor(self.colors[key])

    def status_color(self, status: AgentStatus | str | None) -> QColor:
        if status is None:
            return QColor(self.colors["never_seen"])
        return QColor(self.colors[AgentStatus(status).value])


class ThemeManager(QObject):
    """Applies the scheme to the application and re-applies it when the system's changes."""

    themeChanged = Signal(str)

    def __init__(self, app: QApplication, forced: str | None = None) -> None:
        super().__init__(app)
        self._app = app
        self._forced = forced
        self.theme = Theme("light", LIGHT)
        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(lambda _scheme: self.apply())
        self.apply()

    @property
    def choice(self) -> str | None:
        """``light``, ``dark``, or None: follow the system."""
        return self._forced

    def choose(self, name: str | None) -> None:
        self._forced = name
        self.apply()

    def apply(self) -> None:
        name = self._forced or _system_scheme()
        self.theme = Theme(name, DARK if name == "dark" else LIGHT)
        global _current
        _current = self.theme
        self._app.setStyle("Fusion")
        self._app.setPalette(_palette(self.theme.colors))
        qss = Template(read_text("styles/console.qss")).safe_substitute(self.theme.colors)
        self._app.setStyleSheet(qss)
        self.themeChanged.emit(name)


_current = Theme("light", LIGHT)


def current() -> Theme:
    """The theme in force (light until a ThemeManager applied one)."""
    return _current


def _system_scheme() -> str:
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def _palette(c: dict[str, str]) -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    for r, key in (
        (role.Window, "window"),
        (role.WindowText, "text"),
        (role.Base, "base"),
        (role.AlternateBase, "alt_base"),
        (role.Text, "text"),
        (role.Button, "panel"),
        (role.ButtonText, "text"),
        (role.ToolTipBase, "panel"),
        (role.ToolTipText, "text"),
        (role.PlaceholderText, "muted"),
        (role.Highlight, "accent"),
        (role.Link, "accent"),
        (role.Mid, "border"),
        (role.Midlight, "border"),
    ):
        palette.setColor(r, QColor(c[key]))
    palette.setColor(role.HighlightedText, QColor("#ffffff"))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.Text, role.WindowText, role.ButtonText):
        palette.setColor(disabled, r, QColor(c["muted"]))
    return palette
