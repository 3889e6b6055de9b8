"""Alert badges on the fleet tree: a node with open alerts under it shows their count at the
right end of its name, coloured by the worst of them; a node in maintenance (its own window
or one above it) shows a grey "maintenance" tag before it, its end in the tooltip."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
)

from argos_desktop.alerts.alert_watch import AlertWatch
from argos_desktop.alerts.severity import colour
from argos_desktop.org_tree_model import KEY_ROLE

PAD = 3
MAINTENANCE = "maintenance"
MAINTENANCE_COLOUR = QColor("#7f8c8d")


class AlertBadgeDelegate(QStyledItemDelegate):
    def __init__(self, watch: AlertWatch, parent=None) -> None:
        super().__init__(parent)
        self._watch = watch

    def badge_text(self, index: QModelIndex | QPersistentModelIndex) -> tuple[str, str] | None:
        """The count shown on a node and its severity, if it has open alerts under it."""
        found = self._watch.badge(index.data(KEY_ROLE) or "")
        return (str(found[0]), found[1]) if found else None

    def maintenance_until(self, index: QModelIndex | QPersistentModelIndex) -> datetime | None:
        """When the maintenance open on the node (or a node above it) ends, if one is open."""
        keys = []
        while index.isValid():
            keys.append(index.data(KEY_ROLE) or "")
            index = index.parent()
        return self._watch.maintenance_until(keys)

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        until = self.maintenance_until(index) if event.type() == QEvent.Type.ToolTip else None
        if until is None:
            return super().helpEvent(event, view, option, index)
        text = f"In maintenance until {until.astimezone():%Y-%m-%d %H:%M}: no notifications"
        QToolTip.showText(event.globalPos(), text, view)
        return True

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        right = float(option.rect.right())
        badge = self.badge_text(index)
        if badge is not None:
            right = _pill(painter, option, right, badge[0], colour(badge[1]))
        if self.maintenance_until(index) is not None:
            _pill(painter, option, right, MAINTENANCE, MAINTENANCE_COLOUR)


def _pill(
    painter: QPainter, option: QStyleOptionViewItem, right: float, text: str, fill: QColor
) -> float:
    """Draw ``text`` on a rounded ``fill`` ending at ``right``; where the next one ends."""
    metrics = option.fontMetrics
    width = metrics.horizontalAdvance(text) + 2 * PAD + 4
    height = metrics.height()
    rect = QRectF(right - width - PAD, option.rect.center().y() - height / 2, width, height)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, height / 2, height / 2)
    painter.setPen(Qt.GlobalColor.white)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
    return rect.left()
