"""Counts of agents by status: a proportional bar and one tile per status."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from argos_core.services.dto import StatusCounts
from argos_core.status import AgentStatus
from argos_desktop.detail import status_style


class StatusBar(QWidget):
    """A rounded bar split in proportion to the counts, worst statuses included."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts = StatusCounts()
        self.setMinimumHeight(10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(300, 10)

    def set_counts(self, counts: StatusCounts) -> None:
        self._counts = counts
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        clip = QPainterPath()
        clip.addRoundedRect(rect, 5, 5)
        painter.setClipPath(clip)
        painter.fillRect(rect, self.palette().color(QPalette.ColorRole.Midlight))
        total = self._counts.total
        if total:
            x = rect.left()
            for status in status_style.ORDER:
                width = rect.width() * self._counts.get(status) / total
                if width > 0:
                    painter.fillRect(
                        QRectF(x, rect.top(), width, rect.height()), status_style.color(status)
                    )
                    x += width
        painter.end()


class StatusTile(QFrame):
    """One status's count; a click on it filters the agents table by that status."""

    clicked = Signal(object)  # the AgentStatus

    def __init__(self, status: AgentStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = status
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setObjectName("statusTile")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        color = status_style.color_name(status)
        self.setStyleSheet(
            f"#statusTile {{ border: 1px solid palette(mid); border-left: 4px solid {color};"
            " border-radius: 4px; }"
        )
        self.count = QLabel("0")
        font = self.count.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.count.setFont(font)
        caption = QLabel(status_style.LABELS[status])
        caption.setStyleSheet(f"color: {color}; font-weight: 600;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        layout.addWidget(self.count)
        layout.addWidget(caption)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit(self.status)
        super().mouseReleaseEvent(event)

    def set_count(self, n: int, total: int) -> None:
        self.count.setText(f"{n:,}")
        self.count.setEnabled(n > 0)  # a zero is drawn dimmed, so the non-zero ones stand out
        share = f"{100 * n / total:.0f} % of {total:,} agents" if total else "no agents"
        label, meaning = status_style.LABELS[self.status], status_style.MEANINGS[self.status]
        self.setToolTip(f"{label}: {share}\n{meaning}\nClick to list only these agents.")


class StatusSummary(QWidget):
    """Tiles with the count of each status above a bar of their proportions."""

    statusClicked = Signal(object)  # the AgentStatus of the tile clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles = {s: StatusTile(s) for s in status_style.ORDER}
        for tile in self.tiles.values():
            tile.clicked.connect(self.statusClicked)
        self.bar = StatusBar()
        tiles = QHBoxLayout()
        tiles.setSpacing(8)
        for tile in self.tiles.values():
            tiles.addWidget(tile, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(tiles)
        layout.addWidget(self.bar)

    def set_counts(self, counts: StatusCounts) -> None:
        for status, tile in self.tiles.items():
            tile.set_count(counts.get(status), counts.total)
        self.bar.set_counts(counts)

    def count_text(self, status: AgentStatus) -> str:
        return self.tiles[status].count.text()
