"""The people who use the console: client users in scope and, for superadmins, superadmins."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from argos_core.services.dto import UserInfo
from argos_desktop import icons
from argos_desktop.admin.forms import local_time
from argos_desktop.admin.record_table_model import Column, RecordTableModel
from argos_desktop.admin.user_dialogs import PasswordDialog, SuperadminDialog, UserDialog
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

USER_COLUMNS: list[Column[UserInfo]] = [
    Column("Username", lambda u: u.username),
    Column("Role", lambda u: u.role),
    Column("Scope", lambda u: f"{u.scope_kind} {u.scope_org_id}", monospace=True),
    Column("Active", lambda u: "yes" if u.is_active else "no — deactivated"),
    Column("Last sign-in", lambda u: local_time(u.last_login_at, "never")),
    Column("Created", lambda u: local_time(u.created_at)),
]
SUPERADMIN_COLUMNS: list[Column[UserInfo]] = [
    USER_COLUMNS[0],
    USER_COLUMNS[3],
    USER_COLUMNS[4],
    USER_COLUMNS[5],
]


def record_table(model: RecordTableModel, name: str, sortable: bool = True) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(sortable)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return view


class UsersDialog(QDialog):
    """Lists accounts; every change opens a form or calls one service, then reloads."""

    loaded = Signal()
    changed = Signal()
    failed = Signal(str)
    formOpened = Signal(object)

    def __init__(
        self, session: ConsoleSession, scope_hint: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.scope_hint = scope_hint
        self.form: QDialog | None = None
        identity = session.identity
        self.setWindowTitle("Users")
        self.resize(860, 520)

        self.users = RecordTableModel(USER_COLUMNS, self)
        self.user_view = record_table(self.users, "Users")
        self.new_button = QPushButton(icons.icon("user"), "New user…", objectName="primaryButton")
        self.edit_button = QPushButton("Edit…")
        self.reset_button = QPushButton("Reset password…")
        self.active_button = QPushButton("Deactivate")
        self.new_button.clicked.connect(self.new_user)
        self.edit_button.clicked.connect(self.edit_user)
        self.reset_button.clicked.connect(self.reset_password)
        self.active_button.clicked.connect(self.toggle_user_active)
        users_page = self._page(
            self.user_view,
            [self.new_button, self.edit_button, self.reset_button, self.active_button],
        )

        self.tabs = QTabWidget()
        self.tabs.addTab(users_page, "Users in your scope")
        self.admins = RecordTableModel(SUPERADMIN_COLUMNS, self)
        self.admin_view = record_table(self.admins, "Superadmins")
        self.new_admin_button = QPushButton("New superadmin…")
        self.admin_active_button = QPushButton("Deactivate")
        self.new_admin_button.clicked.connect(self.new_superadmin)
        self.admin_active_button.clicked.connect(self.toggle_superadmin_active)
        if identity.is_superadmin:
            self.tabs.addTab(
                self._page(self.admin_view, [self.new_admin_button, self.admin_active_button]),
                "Superadmins",
            )

        self.message = QLabel(objectName="loginError", wordWrap=True)
        self.message.setVisible(False)
        self.note = QLabel(objectName="loginInfo", wordWrap=True)
        if not identity.can_write:
            self.note.setText("You are a viewer: you can see users but not change them.")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addWidget(close)

        self.user_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.admin_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()
        self.reload()

    @staticmethod
    def _page(view: QTableView, buttons: list[QPushButton]) -> QWidget:
        page = QWidget()
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addLayout(row)
        layout.addWidget(view, 1)
        return page

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        backend, superadmin = self.session.backend, self.session.identity.is_superadmin

        def load() -> tuple[list[UserInfo], list[UserInfo]]:
            admins = backend.list_superadmins() if superadmin else []
            return backend.list_users(limit=1000).items, admins

        run_in_pool(load, self._loaded, self._failed)

    def _loaded(self, result: tuple[list[UserInfo], list[UserInfo]]) -> None:
        users, admins = result
        keep_user, keep_admin = self.selected_user(), self.selected_superadmin()
        self.users.set_rows(users)
        self.admins.set_rows(admins)
        self._reselect(self.user_view, self.users, keep_user)
        self._reselect(self.admin_view, self.admins, keep_admin)
        self._update_buttons()
        self.loaded.emit()

    @staticmethod
    def _reselect(view: QTableView, model: RecordTableModel, keep: UserInfo | None) -> None:
        if keep is None:
            return
        for row, record in enumerate(model.records()):
            if record.username == keep.username:
                view.selectRow(row)

    def _failed(self, exc: BaseException) -> None:
        self.show_error(user_message(exc))

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            self.failed.emit(text)

    # --- selection ---------------------------------------------------------------------------

    def select_user(self, username: str) -> bool:
        for row, record in enumerate(self.users.records()):
            if record.username == username:
                self.user_view.selectRow(row)
                return True
        return False

    def select_superadmin(self, username: str) -> bool:
        for row, record in enumerate(self.admins.records()):
            if record.username == username:
                self.admin_view.selectRow(row)
                return True
        return False

    def selected_user(self) -> UserInfo | None:
        return _selected(self.user_view, self.users)

    def selected_superadmin(self) -> UserInfo | None:
        return _selected(self.admin_view, self.admins)

    def _update_buttons(self, *_args) -> None:
        p = self.session.identity
        user, admin = self.selected_user(), self.selected_superadmin()
        self.new_button.setEnabled(p.can_write)
        for button in (self.edit_button, self.reset_button, self.active_button):
            button.setEnabled(p.can_write and user is not None)
        self.active_button.setText("Activate" if user and not user.is_active else "Deactivate")
        self.new_admin_button.setEnabled(p.is_superadmin)
        self.admin_active_button.setEnabled(p.is_superadmin and admin is not None)
        self.admin_active_button.setText(
            "Activate" if admin and not admin.is_active else "Deactivate"
        )

    # --- actions -----------------------------------------------------------------------------

    def _open(self, form: QDialog) -> None:
        self.form = form
        form.accepted.connect(self._changed)
        form.open()
        self.formOpened.emit(form)

    def new_user(self) -> None:
        self._open(UserDialog(self.session, scope_hint=self.scope_hint, parent=self))

    def edit_user(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._open(UserDialog(self.session, user, parent=self))

    def reset_password(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._open(PasswordDialog(self.session, user.username, parent=self))

    def new_superadmin(self) -> None:
        self._open(SuperadminDialog(self.session, parent=self))

    def toggle_user_active(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        backend, name, active = self.session.backend, user.username, not user.is_active
        self._call(lambda: backend.update_user(name, is_active=active))

    def toggle_superadmin_active(self) -> None:
        admin = self.selected_superadmin()
        if admin is None:
            return
        backend, name, active = self.session.backend, admin.username, not admin.is_active
        self._call(lambda: backend.set_superadmin_active(name, active))

    def _call(self, fn: Callable[[], object]) -> None:
        self.show_error("")
        run_in_pool(fn, lambda _r: self._changed(), self._failed)

    def _changed(self) -> None:
        self.show_error("")
        self.changed.emit()
        self.reload()


def _selected(view: QTableView, model: RecordTableModel) -> UserInfo | None:
    rows = view.selectionModel().selectedRows()
    return model.record(rows[0].row()) if rows else None
