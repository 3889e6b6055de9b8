"""Small building blocks shared by the detail pages."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

COPIED_FEEDBACK_MS = 1500
ELIDED_MINIMUM_CHARS = 6


class ElidedLabel(QLabel):
    """One line of text that ends in "…" where it does not fit; then its tooltip has it whole.

    ``text()`` stays the whole text. ``set_value(text, tip)`` adds a tooltip of its own
    (e.g. an exact time), shown below the whole text when that is cut.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, **properties) -> None:
        self._tip = ""
        super().__init__(text, parent, **properties)

    def set_value(self, text: str, tip: str = "") -> None:
        self._tip = tip
        self.setText(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tip()

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        narrow = self.fontMetrics().averageCharWidth() * ELIDED_MINIMUM_CHARS
        return QSize(min(hint.width(), narrow), hint.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_tip()

    def paintEvent(self, _event) -> None:
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            rect,
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            shown,
            self.foregroundRole(),
        )

    def _update_tip(self) -> None:
        parts = [self.text()] if self.is_elided() else []
        if self._tip:
            parts.append(self._tip)
        self.setToolTip("\n".join(parts))


class CopyableText(QWidget):
    """A monospace, selectable value (an org id, a uuid) with a copy-to-clipboard button."""

    copied = Signal(str)

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._what = what
        self.label = ElidedLabel()
        self.label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.button = QToolButton()
        self.button.setAutoRaise(False)
        self.button.setIcon(QIcon.fromTheme("edit-copy"))
        self.button.setText("Copy")
        self.button.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon
            if not self.button.icon().isNull()
            else Qt.ToolButtonStyle.ToolButtonTextOnly
        )
        self.button.setToolTip(f"Copy the {what} to the clipboard")
        self.button.setAccessibleName(f"Copy {what}")
        self.button.clicked.connect(self.copy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        layout.addStretch(1)

    def set_text(self, text: str) -> None:
        self.label.set_value(text)

    def text(self) -> str:
        return self.label.text()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.button.setText("Copied")
        QTimer.singleShot(COPIED_FEEDBACK_MS, self, lambda: self.button.setText("Copy"))
        self.copied.emit(self.text())


def heading_label(text: str = "", scale: float = 1.6) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def caption_label(text: str = "", *, elided: bool = False) -> QLabel:
    """Small, dimmed text for secondary information ("BRANCH", "created …"); ``elided``:
    an :class:`ElidedLabel`, for a line that must not widen its page."""
    label = ElidedLabel(text) if elided else QLabel(text)
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    return label
