"""A branch's enrollment keys: create one (shown once, with the install command), list, revoke."""

from __future__ import annotations

import shlex
from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.dto import EnrollmentKeyInfo, IssuedKey
from argos_desktop.admin import forms
from argos_desktop.admin.forms import CopyField, FormDialog, local_time
from argos_desktop.admin.record_table_model import Column, RecordTableModel
from argos_desktop.admin.users_dialog import record_table
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

CUSTOM = "custom"
PAST_EXPIRY = "Expiry must be in the future; pick a later date and time."
EXPIRY_CHOICES: tuple[tuple[str, timedelta | str | None], ...] = (
    ("1 day", timedelta(days=1)),
    ("7 days", timedelta(days=7)),
    ("30 days", timedelta(days=30)),
    ("90 days", timedelta(days=90)),
    ("1 year", timedelta(days=365)),
    ("Never expires", None),
    ("Until a date…", CUSTOM),
)
DEFAULT_EXPIRY = 1

KEY_COLUMNS: list[Column[EnrollmentKeyInfo]] = [
    Column("#", lambda k: str(k.key_id), sort_key=lambda k: k.key_id),
    Column("Note", lambda k: k.note or "—"),
    Column("State", lambda k: k.state),
    Column("Created", lambda k: local_time(k.created_at), sort_key=lambda k: k.created_at),
    Column("By", lambda k: k.created_by),
    Column(
        "Expires", lambda k: local_time(k.expires_at, "never"), sort_key=lambda k: _ts(k.expires_at)
    ),
    Column(
        "Last used",
        lambda k: local_time(k.last_used_at, "never"),
        sort_key=lambda k: _ts(k.last_used_at),
    ),
    Column("Uses", lambda k: str(k.use_count), sort_key=lambda k: k.use_count),
]


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else float("inf")


def install_command(server_url: str, branch_org_id: str, key: str) -> str:
    """The agent's command line, safe to paste into a shell whatever the values hold."""
    return shlex.join(
        [
            "argos-agent",
            f"--server={server_url.strip()}",
            f"--branch={branch_org_id}",
            f"--enrollment-key={key}",
        ]
    )


class EnrollmentKeysDialog(FormDialog):
    """Keys let agents join this branch. A key's secret is shown here once, never again."""

    issued = Signal(object)
    loaded = Signal()
    revoked = Signal(int)

    def __init__(
        self,
        session: ConsoleSession,
        branch_org_id: str,
        branch_name: str,
        server_url: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            session,
            f"Enrollment keys — {branch_name}",
            f"Agents installed with one of these keys join branch {branch_name}"
            f" ({branch_org_id}). Keys are stored only as digests: copy a new key now.",
            "Create key",
            parent,
        )
        self.setMinimumWidth(820)
        self.branch_org_id = branch_org_id
        self.key: IssuedKey | None = None
        can_write = session.identity.can_write

        self.server_edit = QLineEdit(server_url)
        self.server_edit.setAccessibleName("Ingest server URL")
        self.server_edit.setToolTip("Where agents send their reports; used in the command line")
        self.expiry_box = QComboBox()
        self.expiry_box.setAccessibleName("Expiry")
        for label, value in EXPIRY_CHOICES:
            self.expiry_box.addItem(label, value)
        self.expiry_box.setCurrentIndex(DEFAULT_EXPIRY)
        self.until_edit = QDateTimeEdit(QDateTime.currentDateTime().addDays(14))
        self.until_edit.setCalendarPopup(True)
        self.until_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.until_edit.setAccessibleName("Expires at")
        self.until_edit.setVisible(False)
        self.expiry_box.currentIndexChanged.connect(
            lambda _i: self.until_edit.setVisible(self.expiry_box.currentData() == CUSTOM)
        )
        expiry = QHBoxLayout()
        expiry.addWidget(self.expiry_box)
        expiry.addWidget(self.until_edit)
        expiry.addStretch(1)
        self.note_edit = QLineEdit(placeholderText="What this key is for, e.g. “Berlin rollout”")
        self.note_edit.setAccessibleName("Note")
        self.form.addRow("Server URL", self.server_edit)
        self.form.addRow("Expires", expiry)
        self.form.addRow("Note", self.note_edit)

        self.secret_box = QGroupBox("New key — shown only once")
        self.key_field = CopyField("enrollment key")
        self.command_field = CopyField("install command")
        secret_layout = QVBoxLayout(self.secret_box)
        secret_layout.addWidget(
            QLabel(
                "Copy the key or the whole command now: Argos keeps only a digest and cannot"
                " show it again.",
                objectName="loginInfo",
                wordWrap=True,
            )
        )
        secret_layout.addWidget(QLabel("Enrollment key"))
        secret_layout.addWidget(self.key_field)
        secret_layout.addWidget(QLabel("Install an agent into this branch with"))
        secret_layout.addWidget(self.command_field)
        self.secret_box.setVisible(False)
        self.server_edit.textChanged.connect(self._update_command)

        self.keys = RecordTableModel(KEY_COLUMNS, self)
        self.key_view = record_table(self.keys, "Enrollment keys")
        self.key_view.setMinimumHeight(170)
        self.revoke_button = QPushButton("Revoke key…")
        self.revoke_button.clicked.connect(self.revoke_selected)
        list_header = QHBoxLayout()
        list_header.addWidget(QLabel("Keys of this branch (secrets are never shown again)"))
        list_header.addStretch(1)
        list_header.addWidget(self.revoke_button)
        line = QFrame(frameShape=QFrame.Shape.HLine)
        self.body.addWidget(self.secret_box)
        self.body.addWidget(line)
        self.body.addLayout(list_header)
        self.body.addWidget(self.key_view, 1)

        close = self.buttons.button(self.buttons.StandardButton.Cancel)
        close.setText("Close")
        self.ok_button.setEnabled(can_write)
        for widget in (self.expiry_box, self.until_edit, self.note_edit):
            widget.setEnabled(can_write)
        if not can_write:
            self.intro.setText(self.intro.text() + " You are a viewer: you cannot create keys.")
        self.key_view.selectionModel().selectionChanged.connect(self._update_revoke)
        self._update_revoke()
        self.reload()

    # --- keys --------------------------------------------------------------------------------

    def reload(self) -> None:
        backend, branch = self.session.backend, self.branch_org_id
        run_in_pool(lambda: backend.list_keys(branch), self._loaded, self._load_failed)

    def _loaded(self, keys: list[EnrollmentKeyInfo]) -> None:
        self.keys.set_rows(keys)
        self._update_revoke()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.show_error(user_message(exc))

    def expires_in(self) -> timedelta | None:
        value = self.expiry_box.currentData()
        if value == CUSTOM:
            until = self.until_edit.dateTime().toSecsSinceEpoch()
            return timedelta(seconds=until - QDateTime.currentSecsSinceEpoch())
        return value

    def on_accept(self) -> None:
        backend, branch = self.session.backend, self.branch_org_id
        expires_in, note = self.expires_in(), self.note_edit.text()
        if expires_in is not None and expires_in.total_seconds() <= 0:
            self.show_error(PAST_EXPIRY)  # said here the same way whichever backend answers
            return
        self.submit(
            lambda: backend.issue_key(branch, expires_in=expires_in, note=note),
            self._issued,
        )

    def _issued(self, key: IssuedKey) -> None:
        self.key = key
        self.key_field.set_text(key.key)
        self._update_command()
        self.secret_box.setVisible(True)
        self.note_edit.clear()
        self.issued.emit(key)
        self.reload()

    def _update_command(self) -> None:
        if self.key is not None:
            self.command_field.set_text(
                install_command(self.server_edit.text(), self.key.branch_org_id, self.key.key)
            )

    def selected_key(self) -> EnrollmentKeyInfo | None:
        rows = self.key_view.selectionModel().selectedRows()
        return self.keys.record(rows[0].row()) if rows else None

    def select_key(self, key_id: int) -> bool:
        for row, record in enumerate(self.keys.records()):
            if record.key_id == key_id:
                self.key_view.selectRow(row)
                return True
        return False

    def _update_revoke(self, *_args) -> None:
        key = self.selected_key()
        self.revoke_button.setEnabled(
            self.session.identity.can_write and key is not None and key.state == "active"
        )

    def revoke_selected(self) -> None:
        key = self.selected_key()
        if key is None or not forms.confirm(
            self,
            "Revoke enrollment key",
            f"Revoke key #{key.key_id} ({key.note or 'no note'})? Agents already enrolled keep"
            " working; no new agent can enroll with it.",
            "Revoke key",
        ):
            return
        backend, key_id = self.session.backend, key.key_id
        self.show_error("")
        run_in_pool(
            lambda: backend.revoke_key(key_id),
            lambda _r: (self.revoked.emit(key_id), self.reload()),
            self._load_failed,
        )
