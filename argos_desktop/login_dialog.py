"""Sign-in: pick or type a connection profile, then username and password.

A profile leads to an Argos server (``https://…``; an optional CA file verifies its
certificate) or, for superadmins on the operator's side, straight to a database URL. An
address given on the command line wins over the remembered profile.

Connecting and checking the password run on a worker thread (argon2 is slow on purpose, a
server may time out). A wrong password shows a clear message and keeps the form locked for
a moment; an unreachable server or database or a bad address says so in one sentence. The
form survives any number of failures.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from argos_core.errors import AuthenticationFailed
from argos_desktop import icons
from argos_desktop.connection import (
    connect_session,
    database_label,
    is_server_address,
    without_password,
)
from argos_desktop.messages import user_message
from argos_desktop.profiles import Profile, ProfileStore
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

FAILURE_DELAY_MS = 1500
Connector = Callable[[str, str, str, str], ConsoleSession]
SERVER_HINT = "Signs in through the Argos server."
DATABASE_HINT = "Opens the database directly: for superadmins on the operator's side only."


class LoginDialog(QDialog):
    signedIn = Signal(object)
    loginFailed = Signal(str)
    formUnlocked = Signal()

    def __init__(
        self,
        settings: QSettings,
        default_address: str,
        connect: Connector = connect_session,
        failure_delay_ms: int = FAILURE_DELAY_MS,
        parent: QWidget | None = None,
        *,
        preset_address: str = "",
        preset_ca_file: str = "",
    ) -> None:
        """``preset_*`` come from the command line and win over the remembered profile."""
        super().__init__(parent)
        self.setWindowTitle("Sign in — Argos Console")
        self.setWindowIcon(icons.app_icon())
        self.setMinimumWidth(520)
        self.session: ConsoleSession | None = None
        self._store = ProfileStore(settings)
        self._connect = connect
        self._failure_delay_ms = failure_delay_ms
        self._default_address = default_address
        self._preset = (preset_address.strip(), preset_ca_file.strip())
        self._profiles = {p.name: p for p in self._store.load()}
        self._busy = False
        self._build()
        self._fill_profiles()
        self._address_changed(self.url_edit.text())

    # --- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        header = QFrame(objectName="loginHeader")
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(48, 48))
        title = QLabel("Argos Console", objectName="loginTitle")
        subtitle = QLabel("Sign in to monitor your fleet", objectName="loginSubtitle")
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(title)
        titles.addWidget(subtitle)
        top = QHBoxLayout(header)
        top.setContentsMargins(20, 16, 20, 16)
        top.setSpacing(14)
        top.addWidget(logo)
        top.addLayout(titles, 1)

        self.profile_box = QComboBox(editable=True)
        self.profile_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.profile_box.setToolTip("Saved connection profiles; type a new name to save another")
        self.profile_box.currentTextChanged.connect(self._profile_chosen)
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://argos.example.com:8443, or a database URL")
        self.url_edit.setToolTip(
            "Your Argos server's address; superadmins on the operator's side may give a"
            " database URL instead (a password in it is used now but never saved)."
        )
        self.url_edit.textChanged.connect(self._address_changed)
        self.kind_label = QLabel(objectName="loginInfo", wordWrap=True)
        self.ca_edit = QLineEdit()
        self.ca_edit.setPlaceholderText("The system's trusted certificates")
        self.ca_edit.setToolTip(
            "PEM file of the certificate authority that signed the server's certificate,"
            " if your organisation runs its own"
        )
        self.ca_browse = QPushButton("Browse…")
        self.ca_browse.setAutoDefault(False)
        self.ca_browse.clicked.connect(self._browse_ca_file)
        self.ca_row = QWidget()
        ca_layout = QHBoxLayout(self.ca_row)
        ca_layout.setContentsMargins(0, 0, 0, 0)
        ca_layout.addWidget(self.ca_edit, 1)
        ca_layout.addWidget(self.ca_browse)
        self.username_edit = QLineEdit()
        self.username_edit.setPlaceholderText("Username")
        self.password_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("Password")
        for edit in (self.url_edit, self.ca_edit, self.username_edit, self.password_edit):
            edit.textEdited.connect(self._clear_error)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        form.addRow("&Profile", self.profile_box)
        form.addRow("&Server", self.url_edit)
        form.addRow("", self.kind_label)
        form.addRow("&CA file", self.ca_row)
        self._form = form
        form.addRow("&Username", self.username_edit)
        form.addRow("Pass&word", self.password_edit)

        self.error_label = QLabel(objectName="loginError", wordWrap=True)
        self.error_label.setVisible(False)
        # Its place is kept while it is hidden: typing after an error does not move the form.
        keep = self.error_label.sizePolicy()
        keep.setRetainSizeWhenHidden(True)
        self.error_label.setSizePolicy(keep)
        self.info_label = QLabel(objectName="loginInfo")

        self.buttons = QDialogButtonBox()
        self.sign_in_button = self.buttons.addButton(
            "Sign in", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.sign_in_button.setObjectName("primaryButton")
        self.sign_in_button.setIcon(icons.icon("sign-in", "#ffffff"))
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setIcon(QIcon())
        # While the form is locked after a failure, focus falls on Cancel; an auto-default
        # button with focus takes Enter, so the next "password + Enter" closed the console.
        for button in (self.sign_in_button, cancel):
            button.setAutoDefault(False)
        self.sign_in_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        body = QVBoxLayout()
        body.setContentsMargins(24, 18, 24, 18)
        body.setSpacing(12)
        body.addLayout(form)
        body.addWidget(self.error_label)
        footer = QHBoxLayout()
        footer.addWidget(self.info_label, 1)
        footer.addWidget(self.buttons)
        body.addLayout(footer)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addLayout(body)

    def _fill_profiles(self) -> None:
        self.profile_box.blockSignals(True)
        self.profile_box.clear()
        self.profile_box.addItems(list(self._profiles) or ["Default"])
        self.profile_box.blockSignals(False)
        last = self._store.last_name()
        name = last if last in self._profiles else self.profile_box.itemText(0)
        address, ca_file = self._preset
        if address:
            # The command line wins: never open the remembered fleet by accident.
            same = [p for p in self._profiles.values() if p.address == without_password(address)]
            name = same[0].name if same else _label(address)
        self.profile_box.setCurrentText(name)
        self._profile_chosen(name)
        if address:
            self.url_edit.setText(address)
            if ca_file:
                self.ca_edit.setText(ca_file)

    def _profile_chosen(self, name: str) -> None:
        profile = self._profiles.get(name)
        if profile is None:
            if not self.url_edit.text():
                self.url_edit.setText(self._default_address)
            return
        self.url_edit.setText(profile.address)
        self.ca_edit.setText(profile.ca_file)
        self.username_edit.setText(profile.username)
        self.password_edit.clear()
        (self.password_edit if profile.username else self.username_edit).setFocus()

    def _address_changed(self, address: str) -> None:
        server = is_server_address(address)
        self.kind_label.setText(SERVER_HINT if server else DATABASE_HINT)
        secure = server and address.strip().lower().startswith("https:")
        self._form.setRowVisible(self.ca_row, secure)

    def _browse_ca_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "CA certificate", self.ca_edit.text(), "Certificates (*.pem *.crt);;All (*)"
        )
        if path:
            self.ca_edit.setText(path)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        target = self.password_edit if self.username_edit.text() else self.username_edit
        target.setFocus()

    # --- signing in --------------------------------------------------------------------------

    def submit(self) -> None:
        if self._busy:
            return
        url = self.url_edit.text().strip()
        ca_file = self.ca_edit.text().strip() if self.ca_row.isVisibleTo(self) else ""
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        if not url:
            self._show_error("Enter your server's address.", self.url_edit)
            return
        if not username or not password:
            self._show_error(
                "Enter your username and password.",
                self.username_edit if not username else self.password_edit,
            )
            return
        self._set_busy(True, "Connecting…")
        connect = self._connect
        run_in_pool(
            lambda: connect(url, username, password, ca_file),
            lambda session: self._succeeded(session, url, username, ca_file),
            self._failed,
        )

    def _succeeded(self, session: ConsoleSession, url: str, username: str, ca_file: str) -> None:
        self._store.remember(Profile(self.profile_box.currentText(), url, username, ca_file))
        self.session = session
        self._set_busy(False, "")
        self.signedIn.emit(session)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        message = user_message(exc)
        self.loginFailed.emit(message)
        if isinstance(exc, AuthenticationFailed):
            self.password_edit.clear()
            self._show_error(message, None)
            self.info_label.setText("Please wait…")
            QTimer.singleShot(self._failure_delay_ms, self, self._unlock_after_failure)
        else:
            self._set_busy(False, "")
            self._show_error(message, self.url_edit)

    def _unlock_after_failure(self) -> None:
        self._set_busy(False, "")
        self.password_edit.setFocus()

    def _set_busy(self, busy: bool, info: str) -> None:
        self._busy = busy
        for widget in (
            self.profile_box,
            self.url_edit,
            self.ca_edit,
            self.ca_browse,
            self.username_edit,
            self.password_edit,
            self.sign_in_button,
        ):
            widget.setEnabled(not busy)
        self.info_label.setText(info)
        if not busy:
            self.formUnlocked.emit()

    def is_busy(self) -> bool:
        return self._busy

    def _show_error(self, message: str, focus: QWidget | None) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        if focus is not None:
            focus.setFocus()

    def show_reason(self, text: str) -> None:
        """Why the form is (back) on screen, e.g. 'Your session has ended.'"""
        self._show_error(text, None)

    def _clear_error(self) -> None:
        self.error_label.setVisible(False)

    def reject(self) -> None:
        if not self._busy:
            super().reject()


def _label(address: str) -> str:
    """A profile name for an address given on the command line."""
    if is_server_address(address):
        return urlsplit(address.strip()).netloc or address.strip()
    return database_label(address)
