"""Alert badges on the fleet tree: a node with open alerts under it shows their count at the
right end of its name, coloured by the worst of them."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from argos_desktop.alerts.alert_watch import AlertWatch
from argos_desktop.alerts.severity import colour
from argos_desktop.org_tree_model import KEY_ROLE

PAD = 3


class AlertBadgeDelegate(QStyledItemDelegate):
    def __init__(self, watch: AlertWatch, parent=None) -> None:
        super().__init__(parent)
        self._watch = watch

    def badge_text(self, index: QModelIndex | QPersistentModelIndex) -> tuple[str, str] | None:
        """The count shown on a node and its severity, if it has open alerts under it."""
        found = self._watch.badge(index.data(KEY_ROLE) or "")
        return (str(found[0]), found[1]) if found else None

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        badge = self.badge_text(index)
        if badge is None:
            return
        text, severity = badge
        metrics = option.fontMetrics
        width = metrics.horizontalAdvance(text) + 2 * PAD + 4
        height = metrics.height()
        rect = QRectF(
            option.rect.right() - width - PAD,
            option.rect.center().y() - height / 2,
            width,
            height,
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour(severity))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
