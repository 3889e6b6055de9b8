"""Tenants, companies and branches from the console: create, rename, delete, scope, bad input."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from argos_core import org_ids
from argos_core.errors import UnknownOrgId
from argos_desktop.admin.org_dialogs import (
    COUNTING,
    CreateOrgDialog,
    DeleteOrgDialog,
    RenameOrgDialog,
)
from argos_desktop.org_tree_model import KEY_ROLE
from tests.factories import add_agent
from tests.gui.admin_helpers import (
    ROOT,
    admin_fleet,
    click,
    open_window,
    people,
    select,
    session,
    settle,
    submit_ok,
    submit_refused,
)

__all__ = ["admin_fleet", "people"]
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def children(fleet, org_id: str) -> list[str]:
    return [n.name for n in fleet.services.orgs.list_children(ROOT, org_id).items]


def test_superadmin_creates_company_and_branch_in_place_keeping_expansion(
    qtbot, qtmodeltester, admin_fleet, tmp_path
):
    f = admin_fleet.org
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    model, tree, admin = window.fleet.model, window.fleet.tree, window.admin
    qtmodeltester.check(model)  # before the loads and insertions below
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    select(qtbot, window, [f["acme"]], f["alpha"])
    acme = model.index_for_key(f["acme"])
    assert tree.isExpanded(acme)

    admin.new_company.trigger()
    dialog = admin.dialog
    assert isinstance(dialog, CreateOrgDialog) and dialog.isVisible()
    assert f["acme"] in dialog.intro.text()
    qtbot.keyClicks(dialog.name_edit, "Gamma Corp")
    with qtbot.waitSignal(dialog.created, timeout=10_000) as created:
        click(qtbot, dialog.ok_button)
    company = created.args[0]
    assert dialog.id_field.isVisible() and dialog.id_field.text() == company.org_id
    assert org_ids.normalize(company.org_id) == company.org_id
    click(qtbot, dialog.id_field.button)
    assert qtbot_clipboard() == company.org_id
    assert dialog.ok_button.text() == "Close"
    click(qtbot, dialog.ok_button)
    assert not dialog.isVisible()

    gamma = model.index_for_key(company.org_id)
    assert gamma.isValid() and gamma.parent() == acme and gamma.data() == "Gamma Corp"
    assert [model.index(r, 0, acme).data() for r in range(model.rowCount(acme))] == [
        "Alpha Corp",
        "Beta Corp",
        "Gamma Corp",
    ]
    assert tree.currentIndex().data(KEY_ROLE) == company.org_id
    assert tree.isExpanded(acme)

    admin.new_branch.trigger()
    branch_dialog = admin.dialog
    qtbot.keyClicks(branch_dialog.name_edit, "Madrid")
    submit_ok(qtbot, branch_dialog)
    branch = branch_dialog.node
    madrid = model.index_for_key(branch.org_id)
    assert madrid.parent() == model.index_for_key(company.org_id)
    assert tree.currentIndex() == madrid
    settle(qtbot, window)
    assert model.index_for_key(branch.org_id).isValid()
    assert resets == []
    assert children(admin_fleet, f["acme"]) == ["Alpha Corp", "Beta Corp", "Gamma Corp"]


def qtbot_clipboard() -> str:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.clipboard().text()


def test_superadmin_creates_a_tenant_from_the_toolbar_menu(qtbot, admin_fleet, tmp_path):
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    assert window.admin.new_tenant in window.admin.new_menu.actions()
    window.admin.new_tenant.trigger()
    dialog = window.admin.dialog
    qtbot.keyClicks(dialog.name_edit, "Omega Networks")
    submit_ok(qtbot, dialog)
    index = window.fleet.model.index_for_key(dialog.node.org_id)
    assert index.isValid() and not index.parent().isValid()
    assert window.fleet.tree.currentIndex() == index


def test_rename_updates_the_row_and_refuses_a_sibling_name(qtbot, admin_fleet, tmp_path):
    f = admin_fleet.org
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    select(qtbot, window, [f["acme"], f["beta"]], f["lyon"])
    window.admin.rename.trigger()
    dialog = window.admin.dialog
    assert isinstance(dialog, RenameOrgDialog)
    dialog.name_edit.setText("Lyon Sud")
    with qtbot.waitSignal(window.admin.changed, timeout=10_000):
        click(qtbot, dialog.ok_button)
    assert window.fleet.model.index_for_key(f["lyon"]).data() == "Lyon Sud"
    assert window.detail.refreshes >= 1

    select(qtbot, window, [f["acme"], f["alpha"]], f["paris"])
    window.admin.rename.trigger()
    dialog = window.admin.dialog
    dialog.name_edit.setText("  berlin ")
    assert "already exists" in submit_refused(qtbot, dialog)
    assert children(admin_fleet, f["alpha"]) == ["Berlin", "Paris"]
    dialog.reject()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "cannot be empty"),
        ("    ", "cannot be empty"),
        ("x" * 101, "at most 100 characters"),
        ("Beta Corp", "already exists"),
        ("bad\tname", "control characters"),
    ],
)
def test_bad_names_give_an_inline_message_and_write_nothing(
    qtbot, admin_fleet, name: str, says: str
):
    f = admin_fleet.org
    before = children(admin_fleet, f["acme"])
    dialog = CreateOrgDialog(session(admin_fleet, ROOT), "company", f["acme"], "Acme MSP")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name_edit.setText(name)
    assert says in submit_refused(qtbot, dialog)
    assert dialog.node is None and not dialog.id_field.isVisible()
    assert children(admin_fleet, f["acme"]) == before


def test_delete_says_what_goes_and_needs_explicit_confirmation(qtbot, admin_fleet, tmp_path):
    f = admin_fleet.org
    services = admin_fleet.services
    doomed = services.orgs.create_branch(ROOT, f["beta"], "Doomed")
    add_agent(services.session_factory, doomed.org_id, "doomed-01")
    add_agent(services.session_factory, doomed.org_id, "doomed-02")
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    model = window.fleet.model
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    select(qtbot, window, [f["acme"], f["beta"]], doomed.org_id)
    with qtbot.waitSignal(window.admin.dialogOpened) as opened:
        window.admin.delete.trigger()
    dialog = opened.args[0]
    assert isinstance(dialog, DeleteOrgDialog)
    assert "cannot be undone" in dialog.intro.text()
    with qtbot.waitSignal(dialog.counted, timeout=10_000) as counted:
        pass
    assert counted.args == ["2 agents"]
    assert "It holds 2 agents." in dialog.contents.text()  # before any click
    assert dialog.force_box.isVisible() and not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter is Cancel
    assert not dialog.isVisible()
    assert services.orgs.get_node(ROOT, doomed.org_id).name == "Doomed"

    window.admin.delete.trigger()
    dialog = window.admin.dialog
    with qtbot.waitSignal(dialog.counted, timeout=10_000):
        pass
    dialog.force_box.setChecked(True)
    with qtbot.waitSignal(dialog.deleted, timeout=10_000):
        click(qtbot, dialog.ok_button)
    assert not model.index_for_key(doomed.org_id).isValid()
    assert model.index_for_key(f["beta"]).isValid()
    with pytest.raises(UnknownOrgId):
        services.orgs.get_node(ROOT, doomed.org_id)
    settle(qtbot, window)
    assert resets == []


def test_delete_names_what_a_tenant_holds_and_says_when_a_node_is_empty(qtbot, admin_fleet):
    f = admin_fleet.org
    orgs = admin_fleet.services.orgs
    held = orgs.create_tenant(ROOT, "Counted Tenant").org_id
    first = orgs.create_company(ROOT, held, "First").org_id
    second = orgs.create_company(ROOT, held, "Second").org_id
    for company, name in ((first, "One"), (first, "Two"), (second, "Three")):
        last = orgs.create_branch(ROOT, company, name).org_id
    add_agent(admin_fleet.services.session_factory, last, "counted-01")
    backend = session(admin_fleet, ROOT)
    tenant = DeleteOrgDialog(backend, "tenant", held, "Counted Tenant")
    qtbot.addWidget(tenant)
    with qtbot.waitSignal(tenant.counted, timeout=10_000) as counted:
        tenant.show()
    assert counted.args == ["2 companies, 3 branches and 1 agent"]
    empty = orgs.create_branch(ROOT, f["beta"], "Empty Street").org_id
    branch = DeleteOrgDialog(backend, "branch", empty, "Empty Street")
    qtbot.addWidget(branch)
    with qtbot.waitSignal(branch.counted, timeout=10_000):
        branch.show()
    assert "empty" in branch.contents.text()
    assert branch.ok_button.isEnabled() and not branch.force_box.isVisible()
    with qtbot.waitSignal(branch.deleted, timeout=10_000):
        click(qtbot, branch.ok_button)


def test_delete_of_a_node_with_users_is_refused_with_the_reason(qtbot, admin_fleet):
    dialog = DeleteOrgDialog(
        session(admin_fleet, ROOT), "tenant", admin_fleet.org["zeta"], "Zeta Hosting"
    )
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.counted, timeout=10_000):
        dialog.show()
    dialog.force_box.setChecked(True)
    assert "user(s) scoped to it" in submit_refused(qtbot, dialog)
    assert not dialog.ok_button.isEnabled()
    assert admin_fleet.services.orgs.get_node(ROOT, admin_fleet.org["zeta"])


def test_company_admin_manages_only_inside_the_company(qtbot, admin_fleet, people, tmp_path):
    f = admin_fleet.org
    admin_session = session(admin_fleet, people["admin"])
    window = open_window(qtbot, admin_fleet, people["admin"], tmp_path)
    actions = window.admin
    model = window.fleet.model
    assert [model.index(r, 0).data(KEY_ROLE) for r in range(model.rowCount())] == [f["alpha"]]
    select(qtbot, window, [], f["alpha"])
    assert not actions.new_tenant.isEnabled() and not actions.new_company.isEnabled()
    assert actions.rename.isEnabled() and actions.new_branch.isEnabled()
    assert not actions.delete.isEnabled(), "nobody deletes their own scope root"
    menu = actions.context_menu()
    assert actions.new_tenant not in menu.actions()

    actions.new_branch.trigger()
    dialog = actions.dialog
    qtbot.keyClicks(dialog.name_edit, "Hamburg")
    submit_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: model.index_for_key(dialog.node.org_id).isValid(), timeout=10_000)
    assert model.index_for_key(dialog.node.org_id).parent() == model.index_for_key(f["alpha"])

    for refused in (
        CreateOrgDialog(admin_session, "tenant"),
        CreateOrgDialog(admin_session, "company", f["acme"], "Acme"),
        CreateOrgDialog(admin_session, "branch", f["beta"], "Beta Corp"),
        RenameOrgDialog(admin_session, "company", f["beta"], "Beta Corp"),
        DeleteOrgDialog(admin_session, "branch", f["oslo"], "Oslo"),
        DeleteOrgDialog(admin_session, "company", f["alpha"], "Alpha Corp"),
    ):
        qtbot.addWidget(refused)
        refused.show()
        if isinstance(refused, DeleteOrgDialog):
            qtbot.waitUntil(lambda d=refused: d.contents.text() != COUNTING, timeout=10_000)
            if refused.force_box.isVisible():
                refused.force_box.setChecked(True)
        else:
            refused.name_edit.setText("Sneaky")
        text = submit_refused(qtbot, refused)
        assert any(
            phrase in text
            for phrase in ("Only superadmins", "No tenant, company or branch", "scoped to")
        ), text
    assert "Sneaky" not in children(admin_fleet, f["acme"]) + children(admin_fleet, f["beta"])
    assert admin_fleet.services.orgs.get_node(ROOT, f["beta"]).name == "Beta Corp"


def test_viewer_can_change_nothing(qtbot, admin_fleet, people, tmp_path):
    f = admin_fleet.org
    window = open_window(qtbot, admin_fleet, people["viewer"], tmp_path)
    actions = window.admin
    select(qtbot, window, [f["alpha"]], f["berlin"])
    for action in (
        actions.new_tenant,
        actions.new_company,
        actions.new_branch,
        actions.rename,
        actions.delete,
    ):
        assert not action.isEnabled(), action.text()
    assert actions.enrollment.isEnabled(), "viewers may look at a branch's keys"
    assert actions.users.isEnabled() and actions.change_password.isEnabled()
    dialog = CreateOrgDialog(session(admin_fleet, people["viewer"]), "branch", f["alpha"], "Alpha")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name_edit.setText("Viewer's branch")
    assert "Viewers can look but not change anything" in submit_refused(qtbot, dialog)
    assert children(admin_fleet, f["alpha"]) == sorted(children(admin_fleet, f["alpha"]))
    assert "Viewer's branch" not in children(admin_fleet, f["alpha"])


def test_context_menu_offers_what_fits_the_node(qtbot, admin_fleet, tmp_path):
    f = admin_fleet.org
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    actions = window.admin
    select(qtbot, window, [f["acme"], f["alpha"]], f["berlin"])
    branch_menu = actions.context_menu().actions()
    assert actions.enrollment in branch_menu and actions.delete in branch_menu
    select(qtbot, window, [f["acme"], f["alpha"], f["berlin"]], admin_fleet.agents["berlin-web-01"])
    agent_menu = actions.context_menu().actions()
    assert actions.move_agent in agent_menu and actions.revoke_agent in agent_menu
    assert actions.rename not in agent_menu
    window.fleet.tree.setFocus()
    qtbot.keyClick(window.fleet.tree, Qt.Key.Key_Up)
    assert window.fleet.current_path()[-1][0] in ("branch", "agent")


def test_enter_in_a_field_submits_the_form(qtbot, admin_fleet):
    dialog = CreateOrgDialog(session(admin_fleet, ROOT), "branch", admin_fleet.org["beta"], "Beta")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name_edit, "Enter Street")
    with qtbot.waitSignal(dialog.created, timeout=10_000):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert "Enter Street" in children(admin_fleet, admin_fleet.org["beta"])


def test_new_and_rename_dialogs_open_with_the_name_field_ready_for_typing(
    qtbot, admin_fleet, tmp_path
):
    f = admin_fleet.org
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    select(qtbot, window, [f["acme"]], f["alpha"])
    window.admin.new_branch.trigger()
    dialog = window.admin.dialog
    assert dialog.focusWidget() is dialog.name_edit
    qtbot.keyClicks(dialog.focusWidget(), "Hamburg Hafen")  # a space presses no button
    assert dialog.isVisible()
    with qtbot.waitSignal(dialog.created, timeout=10_000):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    click(qtbot, dialog.ok_button)
    branch = dialog.node.org_id
    settle(qtbot, window)

    select(qtbot, window, [f["acme"], f["alpha"]], branch)
    window.admin.rename.trigger()
    dialog = window.admin.dialog
    assert dialog.focusWidget() is dialog.name_edit
    qtbot.keyClicks(dialog.focusWidget(), "Hamburg Altona")  # replaces the selected name
    with qtbot.waitSignal(window.admin.changed, timeout=10_000):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    assert "Hamburg Altona" in children(admin_fleet, f["alpha"])
