"""Building blocks of the administration dialogs: a form that calls a service off the GUI
thread and shows the refusal inline, a copyable field, confirmation and date helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from argos_desktop import icons
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

COPIED_FEEDBACK_MS = 1500


def local_time(value: datetime | None, empty: str = "—") -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else empty


def confirm(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    """Ask before a change that cannot be undone; ``action`` labels the button that goes on."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is go


class CopyField(QWidget):
    """A read-only monospace value (org id, key, command line) with a Copy button."""

    copied = Signal(str)

    def __init__(self, what: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(text, readOnly=True)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.edit.setAccessibleName(what)
        self.button = QToolButton(text="Copy")
        self.button.setIcon(icons.icon("copy"))
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setToolTip(f"Copy the {what} to the clipboard")
        self.button.setAccessibleName(f"Copy {what}")
        self.button.clicked.connect(self.copy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)
        self.edit.setCursorPosition(0)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.button.setText("Copied")
        QTimer.singleShot(COPIED_FEEDBACK_MS, self, lambda: self.button.setText("Copy"))
        self.copied.emit(self.text())


class FormDialog(QDialog):
    """A titled form with an inline message line and one primary button.

    ``submit(call, done)`` runs ``call()`` on a worker; a refusal (``ArgosError``) is shown
    inline and nothing else happens; success calls ``done(result)``. ``succeeded``/``failed``
    tell tests (and callers) how it ended.
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        session: ConsoleSession,
        title: str,
        intro: str = "",
        action: str = "OK",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.busy = False
        self._focused_first_field = False
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.heading = QLabel(title, objectName="dialogTitle")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.intro = QLabel(intro, objectName="loginSubtitle", wordWrap=True)
        self.intro.setVisible(bool(intro))
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.message = QLabel(objectName="loginError", wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = QPushButton(action, objectName="primaryButton")
        self.buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.on_accept)
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout()
        self.body.setSpacing(10)
        self.body.addLayout(self.form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addLayout(self.body)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.ok_button.setDefault(True)  # only takes once the button lives in the dialog

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._focused_first_field:
            self._focused_first_field = True
            field = self.first_field()
            if field is not None:
                field.setFocus(Qt.FocusReason.OtherFocusReason)

    def first_field(self) -> QWidget | None:
        """The first widget to type into or choose in, in tab order; no button."""
        widget = self.nextInFocusChain()
        while widget is not None and widget is not self:
            if (
                widget.focusPolicy() & Qt.FocusPolicy.TabFocus
                and widget.isVisibleTo(self)
                and widget.isEnabled()
                and not isinstance(widget, QAbstractButton)
                and not (isinstance(widget, QLineEdit) and widget.isReadOnly())
            ):
                return widget
            widget = widget.nextInFocusChain()
        return None

    def on_accept(self) -> None:
        """Subclasses validate nothing themselves: they call ``submit`` with a service call."""
        self.accept()

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            self.failed.emit(text)

    def error_text(self) -> str:
        return self.message.text() if self.message.isVisible() else ""

    def submit(self, call: Callable[[], Any], done: Callable[[Any], None]) -> None:
        if self.busy:
            return
        self.busy = True
        self.show_error("")
        self.ok_button.setEnabled(False)
        self.setCursor(Qt.CursorShape.BusyCursor)
        run_in_pool(call, lambda result: self._done(done, result), self._refused)

    def _finish(self) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)
        self.unsetCursor()

    def _done(self, done: Callable[[Any], None], result: Any) -> None:
        self._finish()
        done(result)
        self.succeeded.emit(result)

    def _refused(self, exc: BaseException) -> None:
        self._finish()
        self.after_refusal(exc)
        self.show_error(user_message(exc))

    def after_refusal(self, exc: BaseException) -> None:
        """Hook for dialogs whose next step depends on why the service said no."""

    def reject(self) -> None:
        if not self.busy:
            super().reject()
