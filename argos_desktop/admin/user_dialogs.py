"""Forms for one account: create or edit a client user, passwords, a new superadmin."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from argos_core.services.dto import UserInfo
from argos_desktop.admin.forms import FormDialog
from argos_desktop.admin.org_picker import OrgPicker
from argos_desktop.session import ConsoleSession

ROLES = (("admin", "Admin — may change things inside the scope"), ("viewer", "Viewer — read only"))
MISMATCH = "The two passwords differ; type the same new password twice."
POLICY_HINT = "At least 10 characters, with two of: lower case, upper case, digits, symbols."


def password_edit(name: str) -> QLineEdit:
    edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    return edit


class UserDialog(FormDialog):
    """Create a client user (``user=None``) or edit one's role, scope and active flag."""

    saved = Signal(object)

    def __init__(
        self,
        session: ConsoleSession,
        user: UserInfo | None = None,
        scope_hint: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        creating = user is None
        super().__init__(
            session,
            "New user" if creating else f"Edit user {user.username}",
            "A user sees and manages only the subtree of the place they are scoped to."
            if creating
            else f"{user.username} is scoped to {user.scope_org_id}.",
            "Create user" if creating else "Save",
            parent,
        )
        self.user = user
        self.username_edit = QLineEdit(placeholderText="e.g. jane.doe")
        self.username_edit.setAccessibleName("Username")
        self.password_edit = password_edit("Password")
        self.password_edit.setPlaceholderText(POLICY_HINT)
        self.repeat_edit = password_edit("Repeat password")
        self.role_box = QComboBox()
        self.role_box.setAccessibleName("Role")
        for role, label in ROLES:
            self.role_box.addItem(label, role)
        self.scope_picker = OrgPicker(
            session, preferred=user.scope_org_id if user else scope_hint, parent=self
        )
        self.active_box = QCheckBox("Active (may sign in)")
        if creating:
            self.form.addRow("Username", self.username_edit)
            self.form.addRow("Password", self.password_edit)
            self.form.addRow("Repeat", self.repeat_edit)
        self.form.addRow("Role", self.role_box)
        self.form.addRow("Scope", self.scope_picker)
        if not creating:
            self.role_box.setCurrentIndex(self.role_box.findData(user.role))
            self.active_box.setChecked(user.is_active)
            self.form.addRow("", self.active_box)
        else:
            self.role_box.setCurrentIndex(self.role_box.findData("viewer"))
        self.ok_button.setEnabled(False)
        self.scope_picker.loaded.connect(lambda: self.ok_button.setEnabled(not self.busy))
        self.scope_picker.loadFailed.connect(self.show_error)

    def on_accept(self) -> None:
        backend = self.session.backend
        role, scope = self.role_box.currentData(), self.scope_picker.org_id()
        if self.user is None:
            if self.password_edit.text() != self.repeat_edit.text():
                self.show_error(MISMATCH)
                return
            username, password = self.username_edit.text(), self.password_edit.text()
            self.submit(
                lambda: backend.create_user(
                    username=username, password=password, role=role, scope_org_id=scope
                ),
                self._saved,
            )
            return
        name, active = self.user.username, self.active_box.isChecked()
        self.submit(
            lambda: backend.update_user(name, role=role, scope_org_id=scope, is_active=active),
            self._saved,
        )

    def _saved(self, info: UserInfo) -> None:
        self.saved.emit(info)
        self.accept()


class PasswordDialog(FormDialog):
    """Reset a user's password (``username`` given) or change one's own (``username=None``)."""

    def __init__(
        self, session: ConsoleSession, username: str | None = None, parent: QWidget | None = None
    ) -> None:
        own = username is None
        super().__init__(
            session,
            "Change my password" if own else f"Reset password of {username}",
            POLICY_HINT
            if own
            else f"{username} signs in with this password from now on; any lockout is lifted.",
            "Change password" if own else "Reset password",
            parent,
        )
        self.username = username
        self.current_edit = password_edit("Current password")
        self.new_edit = password_edit("New password")
        self.repeat_edit = password_edit("Repeat new password")
        if own:
            self.form.addRow("Current password", self.current_edit)
        self.form.addRow("New password", self.new_edit)
        self.form.addRow("Repeat", self.repeat_edit)

    def on_accept(self) -> None:
        if self.new_edit.text() != self.repeat_edit.text():
            self.show_error(MISMATCH)
            return
        backend, new = self.session.backend, self.new_edit.text()
        if self.username is None:
            old = self.current_edit.text()
            self.submit(lambda: backend.change_own_password(old, new), lambda _r: self.accept())
        else:
            name = self.username
            self.submit(lambda: backend.reset_password(name, new), lambda _r: self.accept())


class SuperadminDialog(FormDialog):
    """Add a superadmin: someone who sees and manages the whole platform."""

    saved = Signal(object)

    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(
            session,
            "New superadmin",
            "Superadmins see and manage every tenant. Give this to as few people as possible.",
            "Add superadmin",
            parent,
        )
        self.username_edit = QLineEdit()
        self.username_edit.setAccessibleName("Username")
        self.password_edit = password_edit("Password")
        self.password_edit.setPlaceholderText(POLICY_HINT)
        self.repeat_edit = password_edit("Repeat password")
        self.form.addRow("Username", self.username_edit)
        self.form.addRow("Password", self.password_edit)
        self.form.addRow("Repeat", self.repeat_edit)

    def on_accept(self) -> None:
        if self.password_edit.text() != self.repeat_edit.text():
            self.show_error(MISMATCH)
            return
        backend = self.session.backend
        name, password = self.username_edit.text(), self.password_edit.text()
        self.submit(lambda: backend.add_superadmin(name, password), self._saved)

    def _saved(self, info: UserInfo) -> None:
        self.saved.emit(info)
        self.accept()
