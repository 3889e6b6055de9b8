"""Create, rename and delete tenants, companies and branches."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QLabel, QLineEdit, QWidget

from argos_core.errors import Conflict
from argos_core.services.dto import OrgKind, OrgNode
from argos_core.services.org_contents import contents_phrase
from argos_desktop.admin.forms import CopyField, FormDialog
from argos_desktop.backend.protocol import ConsoleBackend
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

NOTHING = contents_phrase(0, 0, 0)
COUNTING = "Counting what it holds…"
COUNT_PAGE = 500  # the console API's largest page of children
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
    """Says what the node holds before anything is clicked; deleting a non-empty node needs
    its box ticked, and Enter means Cancel."""

    deleted = Signal(str)
    counted = Signal(str)  # what the node holds, in words ("" when it could not be counted)

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
        self.contents = QLabel(COUNTING, wordWrap=True)
        self.contents.setAccessibleName("What goes with it")
        self.force_box = QCheckBox(f"Yes, delete “{name}” and everything it holds")
        self.force_box.setVisible(False)
        self.force_box.toggled.connect(self.ok_button.setEnabled)
        self.body.addWidget(self.contents)
        self.body.addWidget(self.force_box)
        self.ok_button.setEnabled(False)
        self.ok_button.setDefault(False)
        self.ok_button.setAutoDefault(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        backend = session.backend
        run_in_pool(lambda: count_contents(backend, kind, org_id), self._counted, self._unknown)

    def _counted(self, held: str) -> None:
        if held == NOTHING:
            self.contents.setText("It is empty: nothing else goes with it.")
            self.ok_button.setEnabled(True)
        else:
            self.contents.setText(
                f"It holds {held}. They go with it, with the agents' telemetry history."
            )
            self._ask_for_everything()
        self.counted.emit(held)

    def _unknown(self, exc: BaseException) -> None:
        self.contents.setText(f"What it holds could not be counted: {user_message(exc)}")
        self.ok_button.setEnabled(True)  # the service still refuses a non-empty node
        self.counted.emit("")

    def _ask_for_everything(self) -> None:
        self.force_box.setVisible(True)
        self.force_box.setChecked(False)
        self.ok_button.setText("Delete everything")
        self.ok_button.setEnabled(False)

    def on_accept(self) -> None:
        backend, org_id = self.session.backend, self.org_id
        force = self.force_box.isVisibleTo(self) and self.force_box.isChecked()
        self.submit(lambda: backend.delete_org(org_id, force=force), self._deleted)

    def after_refusal(self, exc: BaseException) -> None:
        if isinstance(exc, Conflict) and not self.force_box.isVisibleTo(self):
            self._ask_for_everything()  # something arrived since it was counted
        elif self.force_box.isVisibleTo(self):
            self.force_box.setVisible(False)
            self.ok_button.setEnabled(False)

    def _deleted(self, _result: object) -> None:
        self.deleted.emit(self.org_id)
        self.accept()


def count_contents(backend: ConsoleBackend, kind: OrgKind, org_id: str) -> str:
    """Blocking: what deleting the node takes with it, in words (``NOTHING`` if empty)."""
    node = backend.get_node(org_id)
    companies = branches = 0
    if kind == "company":
        branches = node.child_count
    elif kind == "tenant":
        companies = node.child_count
        offset = 0
        while offset < companies:
            page = backend.list_children(org_id, offset=offset, limit=COUNT_PAGE)
            branches += sum(company.child_count for company in page.items)
            if not page.items:
                break
            offset += len(page.items)
    return contents_phrase(companies, branches, node.counts.total)
