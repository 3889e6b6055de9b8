"""Small building blocks shared by the detail pages."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

COPIED_FEEDBACK_MS = 1500


class CopyableText(QWidget):
    """A monospace, selectable value (an org id, a uuid) with a copy-to-clipboard button."""

    copied = Signal(str)

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._what = what
        self.label = QLabel()
        self.label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.label.setText(text)

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


def caption_label(text: str = "") -> QLabel:
    """Small, dimmed text for secondary information ("BRANCH", "created …")."""
    label = QLabel(text)
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    return label
