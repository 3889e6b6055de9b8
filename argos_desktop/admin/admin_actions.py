"""The administration actions of the main window: menus, toolbar, tree context menu.

Actions the signed-in identity obviously cannot do are disabled; everything else is decided
by the backend, whose refusals the dialogs show. After a change the tree is updated in place.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, QSettings, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QWidget

from argos_core.services.dto import AgentSummary, OrgNode
from argos_desktop import icons
from argos_desktop.admin.agent_dialogs import AgentDialog
from argos_desktop.admin.agent_server_address import AgentServerAddress
from argos_desktop.admin.audit_view import AuditLogDialog
from argos_desktop.admin.enrollment_dialog import EnrollmentKeysDialog
from argos_desktop.admin.org_dialogs import CreateOrgDialog, DeleteOrgDialog, RenameOrgDialog
from argos_desktop.admin.sessions_dialog import SessionsDialog
from argos_desktop.admin.user_dialogs import PasswordDialog
from argos_desktop.admin.users_dialog import UsersDialog
from argos_desktop.fleet_panel import FleetPanel
from argos_desktop.session import ConsoleSession

ORG_KINDS = ("tenant", "company", "branch")


class AdminActions(QObject):
    """Owns the QActions; ``dialog`` is the form opened last (tests drive it)."""

    dialogOpened = Signal(object)
    changed = Signal()

    def __init__(
        self, session: ConsoleSession, fleet: FleetPanel, window: QWidget, settings: QSettings
    ) -> None:
        super().__init__(window)
        self.session = session
        self.agent_server = AgentServerAddress(settings, session)
        self.fleet = fleet
        self.window = window
        self.dialog: QDialog | None = None
        self.audit_window: AuditLogDialog | None = None
        self._refresh_again = False
        fleet.model.refreshed.connect(self._refresh_if_asked)
        fleet.model.refreshFailed.connect(self._refresh_if_asked)

        def action(text: str, slot, icon: str | None = None, shortcut: str = "") -> QAction:
            made = QAction(text, window)
            if icon:
                made.setIcon(icons.icon(icon))
            if shortcut:
                made.setShortcut(QKeySequence(shortcut))
            made.triggered.connect(slot)
            return made

        self.new_tenant = action("New tenant…", lambda: self.create("tenant"), "tenant")
        self.new_company = action("New company…", lambda: self.create("company"), "company")
        self.new_branch = action("New branch…", lambda: self.create("branch"), "branch")
        self.rename = action("Rename…", self.rename_current, shortcut="F2")
        self.delete = action("Delete…", self.delete_current, shortcut="Del")
        self.enrollment = action("Enrollment keys…", self.enrollment_keys)
        self.revoke_agent = action("Revoke agent…", lambda: self.agent_action("revoke"))
        self.move_agent = action("Move agent to branch…", lambda: self.agent_action("move"))
        self.delete_agent = action("Delete agent…", lambda: self.agent_action("delete"))
        self.users = action("Users…", self.open_users, "user", "Ctrl+U")
        self.audit = action("Audit log", self.open_audit, "clock", "Ctrl+L")
        self.change_password = action("Change my password…", self.change_own_password)
        self.own_sessions = action("My sessions…", self.open_own_sessions)

        self.new_menu = QMenu("New", window)
        self.new_menu.setIcon(icons.icon("tenant"))
        self.new_menu.addActions([self.new_tenant, self.new_company, self.new_branch])

        fleet.nodeSelected.connect(lambda _k, _v: self.update_actions())
        fleet.selectionCleared.connect(self.update_actions)
        fleet.contextMenuWanted.connect(self.show_context_menu)
        self.update_actions()

    # --- where we are --------------------------------------------------------------------------

    def _path(self) -> list[tuple[str, str]]:
        return self.fleet.current_path()

    def _current(self) -> tuple[str, str] | None:
        path = self._path()
        return path[-1] if path else None

    def _nearest(self, kind: str) -> str | None:
        for node_kind, key in reversed(self._path()):
            if node_kind == kind:
                return key
        return None

    def _name(self, key: str) -> str:
        index = self.fleet.model.index_for_key(key)
        if index.isValid():
            return index.data()
        view = self.fleet.result_view
        current = view.currentIndex().siblingAtColumn(0)
        return current.data() if current.isValid() else key

    def update_actions(self) -> None:
        p = self.session.identity
        current = self._current()
        kind = current[0] if current else None
        is_root = current is not None and current[1] == p.scope_org_id
        self.new_tenant.setEnabled(p.is_superadmin)
        self.new_company.setEnabled(p.can_write and self._nearest("tenant") is not None)
        self.new_branch.setEnabled(p.can_write and self._nearest("company") is not None)
        editable_org = p.can_write and kind in ORG_KINDS and (kind != "tenant" or p.is_superadmin)
        self.rename.setEnabled(editable_org)
        self.delete.setEnabled(editable_org and not is_root)
        self.enrollment.setEnabled(kind == "branch")
        for agent_action in (self.revoke_agent, self.move_agent, self.delete_agent):
            agent_action.setEnabled(p.can_write and kind == "agent")

    def show_context_menu(self, at: QPoint) -> None:
        menu = self.context_menu()
        if not menu.isEmpty():
            menu.popup(at)

    def context_menu(self) -> QMenu:
        self.update_actions()
        menu = QMenu(self.window)
        current = self._current()
        kind = current[0] if current else None
        if kind == "agent":
            menu.addActions([self.move_agent, self.revoke_agent])
            menu.addSeparator()
            menu.addAction(self.delete_agent)
            return menu
        if kind is None or self.session.identity.is_superadmin:
            menu.addAction(self.new_tenant)
        if kind in ("tenant", "company", "branch"):
            menu.addAction(self.new_company)
        if kind in ("company", "branch"):
            menu.addAction(self.new_branch)
        if kind == "branch":
            menu.addSeparator()
            menu.addAction(self.enrollment)
        if kind in ORG_KINDS:
            menu.addSeparator()
            menu.addActions([self.rename, self.delete])
        return menu

    # --- opening forms -------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        self.dialogOpened.emit(dialog)
        return dialog

    def create(self, kind: str) -> None:
        parent_kind = {"tenant": None, "company": "tenant", "branch": "company"}[kind]
        parent_key = self._nearest(parent_kind) if parent_kind else None
        if parent_kind and parent_key is None:
            return
        dialog = CreateOrgDialog(
            self.session,
            kind,  # type: ignore[arg-type]
            parent_key,
            self._name(parent_key) if parent_key else "",
            self.window,
        )
        dialog.created.connect(lambda node: self._created(parent_key, node))
        self._open(dialog)

    def _created(self, parent_key: str | None, node: OrgNode) -> None:
        self.fleet.model.add_item(parent_key, node)
        path = [key for _kind, key in self._path()]
        if parent_key in path:
            path = path[: path.index(parent_key) + 1]
        elif parent_key is None:
            path = []
        self.fleet.reveal(path, node.org_id)
        self._after_change()

    def rename_current(self) -> None:
        current = self._current()
        if current is None or current[0] not in ORG_KINDS:
            return
        kind, key = current
        dialog = RenameOrgDialog(self.session, kind, key, self._name(key), self.window)  # type: ignore[arg-type]
        dialog.renamed.connect(self._renamed)
        self._open(dialog)

    def _renamed(self, node: OrgNode) -> None:
        self.fleet.model.update_item(node)
        self._after_change()

    def delete_current(self) -> None:
        current = self._current()
        if current is None or current[0] not in ORG_KINDS:
            return
        kind, key = current
        dialog = DeleteOrgDialog(self.session, kind, key, self._name(key), self.window)  # type: ignore[arg-type]
        dialog.deleted.connect(self._removed)
        self._open(dialog)

    def _removed(self, key: str) -> None:
        self.fleet.model.remove_key(key)
        self._after_change()

    def enrollment_keys(self) -> None:
        current = self._current()
        if current is None or current[0] != "branch":
            return
        dialog = EnrollmentKeysDialog(
            self.session,
            current[1],
            self._name(current[1]),
            self.agent_server.suggested(),
            self.window,
        )
        dialog.issued.connect(lambda _key: self.agent_server.remember(dialog.server_edit.text()))
        dialog.finished.connect(lambda _r: self.agent_server.remember(dialog.server_edit.text()))
        self._open(dialog)

    def agent_action(self, action: str) -> None:
        current = self._current()
        if current is None or current[0] != "agent":
            return
        uuid = current[1]
        dialog = AgentDialog(self.session, action, uuid, self._name(uuid), self.window)  # type: ignore[arg-type]
        dialog.completed.connect(lambda done, result: self._agent_done(done, uuid, result))
        self._open(dialog)

    def _agent_done(self, action: str, uuid: str, result: AgentSummary | None) -> None:
        model = self.fleet.model
        if action == "delete":
            model.remove_key(uuid)
        elif action == "move" and result is not None:
            old_parent = model.parent_key(uuid)
            if old_parent != result.branch_org_id:
                model.remove_key(uuid)
                model.add_item(result.branch_org_id, result)
        self._after_change()

    def open_users(self) -> None:
        current = self._current()
        hint = next(
            (key for kind, key in reversed(self._path()) if kind in ORG_KINDS),
            current[1] if current else None,
        )
        dialog = UsersDialog(self.session, scope_hint=hint, parent=self.window)
        dialog.changed.connect(self.changed)
        self._open(dialog)

    def open_audit(self) -> None:
        if self.audit_window is not None:
            self.audit_window.reload()
            self.audit_window.raise_()
            self.audit_window.activateWindow()
            return
        self.audit_window = AuditLogDialog(self.session, self.window)
        self.audit_window.finished.connect(self._audit_closed)
        self.audit_window.show()
        self.dialogOpened.emit(self.audit_window)

    def _audit_closed(self, _result: int) -> None:
        if self.audit_window is not None:
            self.audit_window.deleteLater()
            self.audit_window = None

    def change_own_password(self) -> None:
        self._open(PasswordDialog(self.session, None, self.window))

    def open_own_sessions(self) -> None:
        self._open(SessionsDialog(self.session, self.window))

    def _after_change(self) -> None:
        """Counts and statuses of the ancestors follow with a refresh in place."""
        self._refresh_again = not self.fleet.model.refresh()
        self.update_actions()
        self.changed.emit()

    def _refresh_if_asked(self, *_args) -> None:
        """A change made while a refresh was already reading is shown by one more refresh."""
        if self._refresh_again:
            self._refresh_again = False
            self.fleet.model.refresh()
