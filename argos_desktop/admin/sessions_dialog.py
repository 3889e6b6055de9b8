"""The signed-in person's own sessions on Argos servers: where and when, and ending one.

A session that someone else may be using (a console left signed in on another machine, a
token that leaked) ends here; this console's own session ends with *Sign out*.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.dto import SessionInfo
from argos_desktop.admin.forms import local_time
from argos_desktop.admin.record_table_model import Column, RecordTableModel
from argos_desktop.admin.users_dialog import record_table
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

SESSION_COLUMNS: list[Column[SessionInfo]] = [
    Column("Signed in", lambda s: local_time(s.created_at), sort_key=lambda s: s.created_at),
    Column("Last used", lambda s: local_time(s.last_used_at), sort_key=lambda s: s.last_used_at),
    Column("From", lambda s: s.source or "—", monospace=True),
    Column("", lambda s: "this console" if s.current else ""),
]
THIS_CONSOLE = "This console's own session ends with Account ▸ Sign out."


class SessionsDialog(QDialog):
    """Lists the person's live sessions; *End session* ends the selected one, then reloads."""

    loaded = Signal()
    ended = Signal(str)
    failed = Signal(str)

    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("My sessions")
        self.resize(640, 360)
        self.sessions = RecordTableModel(SESSION_COLUMNS, self)
        self.view = record_table(self.sessions, "My sessions")
        self.end_button = QPushButton("End session")
        self.end_button.clicked.connect(self.end_selected)
        self.note = QLabel(objectName="loginInfo", wordWrap=True)
        self.message = QLabel(objectName="loginError", wordWrap=True)
        self.message.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.end_button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(f"Where {session.identity.username} is signed in to Argos servers:")
        )
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()
        self.reload()

    def reload(self) -> None:
        run_in_pool(self.session.backend.list_own_sessions, self._loaded, self._failed)

    def _loaded(self, sessions: list[SessionInfo]) -> None:
        self.sessions.set_rows(sessions)
        self.note.setText("" if sessions else "You are not signed in anywhere else.")
        self._update_buttons()
        self.loaded.emit()

    def select(self, session_id: str) -> bool:
        for row, record in enumerate(self.sessions.records()):
            if record.session_id == session_id:
                self.view.selectRow(row)
                return True
        return False

    def selected(self) -> SessionInfo | None:
        rows = self.view.selectionModel().selectedRows()
        return self.sessions.record(rows[0].row()) if rows else None

    def end_selected(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen.current:
            return
        self._show_error("")
        session_id = chosen.session_id

        def ended(_result: object) -> None:
            self.ended.emit(session_id)
            self.reload()

        run_in_pool(lambda: self.session.backend.end_own_session(session_id), ended, self._failed)

    def _update_buttons(self, *_args) -> None:
        chosen = self.selected()
        self.end_button.setEnabled(chosen is not None and not chosen.current)
        self.end_button.setToolTip(THIS_CONSOLE if chosen is not None and chosen.current else "")

    def _failed(self, exc: BaseException) -> None:
        self._show_error(user_message(exc))

    def _show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            self.failed.emit(text)
