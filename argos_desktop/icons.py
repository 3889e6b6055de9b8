"""The console's SVG icon set, tinted to the theme, with status badges for tree nodes."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer

from argos_core.status import AgentStatus
from argos_desktop import theme
from argos_desktop.resources import read_bytes

SIZES = (16, 20, 24, 32, 48)


def icon(name: str, color: str | None = None) -> QIcon:
    """A themed icon; ``color`` overrides the theme's icon colour."""
    return _icon(name, color or theme.current().colors["icon"])


@cache
def _icon(name: str, color: str) -> QIcon:
    renderer = _renderer(name, color)
    result = QIcon()
    for size in SIZES:
        result.addPixmap(_render(renderer, size))
    return result


def app_icon() -> QIcon:
    return _icon("argos", "")


def node_icon(kind: str, status: AgentStatus | str | None) -> QIcon:
    """A node's icon (tenant/company/branch/agent) with a dot in its worst status's colour."""
    current = theme.current()
    badge = current.status_color(status).name() if status is not None else ""
    return _node_icon(kind, current.colors["icon"], badge, current.colors["base"])


@cache
def _node_icon(kind: str, color: str, badge: str, ring: str) -> QIcon:
    renderer = _renderer(kind, color)
    result = QIcon()
    for size in SIZES:
        pixmap = _render(renderer, size)
        if badge:
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            d = size * 0.5
            rect = QRectF(size - d - 0.5, size - d - 0.5, d, d)
            painter.setPen(QPen(QColor(ring), max(1.0, size / 12)))
            painter.setBrush(QColor(badge))
            painter.drawEllipse(rect)
            painter.end()
        # The same pixmap when selected: the style's selection tint would turn a red
        # (overdue) dot mauve, close to revoked's purple.
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
            result.addPixmap(pixmap, mode)
    return result


def status_dot(status: AgentStatus | str | None) -> QIcon:
    return _dot(theme.current().status_color(status).name())


@cache
def _dot(color: str) -> QIcon:
    result = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color))
        inset = size * 0.25
        painter.drawEllipse(QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
        painter.end()
        # The same pixmap when selected: the style's selection tint would turn a red
        # (overdue) dot mauve, close to revoked's purple.
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
            result.addPixmap(pixmap, mode)
    return result


def _renderer(name: str, color: str) -> QSvgRenderer:
    svg = read_bytes(f"icons/{name}.svg")
    if color:
        svg = svg.replace(b"currentColor", color.encode())
    return QSvgRenderer(QByteArray(svg))


def _render(renderer: QSvgRenderer, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap
