"""How alert severities look and rank in the console (the theme's status colours)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QColor

from argos_core.services.alert_dto import AlertInfo
from argos_desktop import theme

RANK = {"warning": 1, "critical": 2}
_COLOUR_KEY = {None: "online", "warning": "offline", "critical": "overdue"}


def worst(alerts: Iterable[AlertInfo]) -> str | None:
    """``critical``, ``warning`` or None (no open alert)."""
    found = max((RANK.get(a.severity, 0) for a in alerts), default=0)
    return {1: "warning", 2: "critical"}.get(found)


def colour(severity: str | None) -> QColor:
    return theme.current().color(_COLOUR_KEY.get(severity, "online"))
