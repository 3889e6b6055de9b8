"""Create, rename and delete tenants, companies and branches."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QWidget

from argos_core.errors import Conflict
from argos_core.services.dto import OrgKind, OrgNode
from argos_desktop.admin.forms import CopyField, FormDialog
from argos_desktop.session import ConsoleSession

KIND_TITLES = {"tenant": "Tenant", "company": "Company", "branch": "Branch"}
INTROS = {
    "tenant": "A tenant is one customer of the platform, with its own companies and users.",
    "company": "A company of {parent}.",
    "branch": "A branch of {parent}. Agents are installed into branches.",
}


class CreateOrgDialog(FormDialog):
    """Name a new node; once created, show its generated org id with a copy button."""

    created = Signal(object)

    def __init__(
        self,
        session: ConsoleSession,
        kind: OrgKind,
        parent_org_id: str | None = None,
        parent_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        where = f"{parent_name} ({parent_org_id})" if parent_org_id else ""
        super().__init__(
            session,
            f"New {kind}",
            INTROS[kind].format(parent=where),
            f"Create {kind}",
            parent,
        )
        self.kind = kind
        self.parent_org_id = parent_org_id
        self.node: OrgNode | None = None
        self.name_edit = QLineEdit(placeholderText=f"{KIND_TITLES[kind]} name")
        self.name_edit.setAccessibleName(f"{KIND_TITLES[kind]} name")
        self.form.addRow("Name", self.name_edit)
        self.done_label = QLabel(objectName="loginInfo", wordWrap=True)
        self.id_field = CopyField("org id")
        self.done_label.setVisible(False)
        self.id_field.setVisible(False)
        self.body.addWidget(self.done_label)
        self.body.addWidget(self.id_field)

    def on_accept(self) -> None:
        if self.node is not None:
            self.accept()
            return
        backend, name = self.session.backend, self.name_edit.text()
        if self.kind == "tenant":
            self.submit(lambda: backend.create_tenant(name), self._created)
        elif self.kind == "company":
            parent_id = self.parent_org_id or ""
            self.submit(lambda: backend.create_company(parent_id, name), self._created)
        else:
            parent_id = self.parent_org_id or ""
            self.submit(lambda: backend.create_branch(parent_id, name), self._created)

    def _created(self, node: OrgNode) -> None:
        self.node = node
        self.name_edit.setReadOnly(True)
        self.done_label.setText(
            f"{KIND_TITLES[node.kind]} “{node.name}” was created. Its org id is what people "
            "type when they install agents or ask for support:"
        )
        self.id_field.set_text(node.org_id)
        self.done_label.setVisible(True)
        self.id_field.setVisible(True)
        self.ok_button.setText("Close")
        self.buttons.button(self.buttons.StandardButton.Cancel).setVisible(False)
        self.created.emit(node)


class RenameOrgDialog(FormDialog):
    renamed = Signal(object)

    def __init__(
        self,
        session: ConsoleSession,
        kind: OrgKind,
        org_id: str,
        name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            session,
            f"Rename {kind}",
            f"{KIND_TITLES[kind]} “{name}” ({org_id}). Its org id stays the same.",
            "Rename",
            parent,
        )
        self.org_id = org_id
        self.name_edit = QLineEdit(name)
        self.name_edit.setAccessibleName("New name")
        self.name_edit.selectAll()
        self.form.addRow("New name", self.name_edit)

    def on_accept(self) -> None:
        backend, org_id, name = self.session.backend, self.org_id, self.name_edit.text()
        self.submit(lambda: backend.rename_org(org_id, name), self._renamed)

    def _renamed(self, node: OrgNode) -> None:
        self.renamed.emit(node)
        self.accept()


class DeleteOrgDialog(FormDialog):
    """Delete asks twice when the node is not empty: the service says what would go."""

    deleted = Signal(str)

    def __init__(
        self,
        session: ConsoleSession,
        kind: OrgKind,
        org_id: str,
        name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            session,
            f"Delete {kind}",
            f"Delete {kind} “{name}” ({org_id})? This cannot be undone.",
            f"Delete {kind}",
            parent,
        )
        self.kind = kind
        self.org_id = org_id
        self.force_box = QCheckBox(f"Yes, delete “{name}” and everything it holds")
        self.force_box.setVisible(False)
        self.force_box.toggled.connect(self.ok_button.setEnabled)
        self.body.addWidget(self.force_box)

    def on_accept(self) -> None:
        backend, org_id = self.session.backend, self.org_id
        force = self.force_box.isVisibleTo(self) and self.force_box.isChecked()
        self.submit(lambda: backend.delete_org(org_id, force=force), self._deleted)

    def after_refusal(self, exc: BaseException) -> None:
        if isinstance(exc, Conflict) and not self.force_box.isVisibleTo(self):
            self.force_box.setVisible(True)
            self.force_box.setChecked(False)
            self.ok_button.setText("Delete everything")
            self.ok_button.setEnabled(False)
        elif self.force_box.isVisibleTo(self):
            self.force_box.setVisible(False)
            self.ok_button.setEnabled(False)

    def _deleted(self, _result: object) -> None:
        self.deleted.emit(self.org_id)
        self.accept()
