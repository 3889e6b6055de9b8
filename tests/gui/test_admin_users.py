"""Users, superadmins and passwords from the console, with scope and bad input."""

from __future__ import annotations

import pytest

from argos_core.errors import AuthenticationFailed
from argos_desktop.admin.user_dialogs import PasswordDialog, SuperadminDialog, UserDialog
from argos_desktop.admin.users_dialog import UsersDialog
from tests.gui.admin_helpers import (
    PASSWORD,
    ROOT,
    admin_fleet,
    click,
    people,
    session,
    submit_ok,
    submit_refused,
)

__all__ = ["admin_fleet", "people"]
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
NEW_PASSWORD = "Another-horse-7"


def users_dialog(qtbot, fleet, principal, scope_hint=None) -> UsersDialog:
    dialog = UsersDialog(session(fleet, principal), scope_hint=scope_hint)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


def open_form(qtbot, dialog: UsersDialog, button):
    with qtbot.waitSignal(dialog.formOpened, timeout=5_000) as opened:
        click(qtbot, button)
    form = opened.args[0]
    picker = getattr(form, "scope_picker", None)
    if picker is not None and not picker.ready:
        with qtbot.waitSignal(picker.loaded, timeout=10_000):
            pass
    return form


def usernames(fleet, principal=ROOT) -> list[str]:
    return [u.username for u in fleet.services.users.list_users(principal).items]


def test_superadmin_creates_resets_edits_and_deactivates_a_user(qtbot, admin_fleet):
    f = admin_fleet.org
    users = admin_fleet.services.users
    dialog = users_dialog(qtbot, admin_fleet, ROOT, scope_hint=f["berlin"])
    assert "alpha-admin" in [u.username for u in dialog.users.records()]

    form = open_form(qtbot, dialog, dialog.new_button)
    assert isinstance(form, UserDialog)
    assert form.scope_picker.org_id() == f["berlin"], "the tree's selection is the default"
    qtbot.keyClicks(form.username_edit, "berlin.ops")
    qtbot.keyClicks(form.password_edit, PASSWORD)
    qtbot.keyClicks(form.repeat_edit, PASSWORD)
    form.role_box.setCurrentIndex(form.role_box.findData("viewer"))
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        submit_ok(qtbot, form)
    assert dialog.select_user("berlin.ops")
    created = dialog.selected_user()
    assert (created.role, created.scope_org_id, created.is_active) == ("viewer", f["berlin"], True)

    reset = open_form(qtbot, dialog, dialog.reset_button)
    assert isinstance(reset, PasswordDialog)
    reset.new_edit.setText(NEW_PASSWORD)
    reset.repeat_edit.setText(NEW_PASSWORD)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        submit_ok(qtbot, reset)
    assert users.authenticate("berlin.ops", NEW_PASSWORD).role == "viewer"

    assert dialog.select_user("berlin.ops")
    edit = open_form(qtbot, dialog, dialog.edit_button)
    assert edit.scope_picker.org_id() == f["berlin"]
    edit.role_box.setCurrentIndex(edit.role_box.findData("admin"))
    assert edit.scope_picker.select(f["paris"])
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        submit_ok(qtbot, edit)
    assert dialog.select_user("berlin.ops")
    edited = dialog.selected_user()
    assert (edited.role, edited.scope_org_id) == ("admin", f["paris"])

    assert dialog.active_button.text() == "Deactivate"
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        click(qtbot, dialog.active_button)
    assert dialog.selected_user().is_active is False
    assert dialog.active_button.text() == "Activate"
    with pytest.raises(AuthenticationFailed):
        users.authenticate("berlin.ops", NEW_PASSWORD)
    entries = admin_fleet.services.audit.list_entries(ROOT, text="berlin.ops").items
    actions = [e.action for e in entries if not e.action.startswith("login.")]  # sign-ins too
    assert actions[:4] == ["user.update", "user.update", "user.reset_password", "user.create"]


@pytest.mark.parametrize(
    ("username", "password", "repeat", "says"),
    [
        ("", PASSWORD, PASSWORD, "Usernames are 3 to"),
        ("   ", PASSWORD, PASSWORD, "Usernames are 3 to"),
        ("has space", PASSWORD, PASSWORD, "Usernames are 3 to"),
        ("x" * 65, PASSWORD, PASSWORD, "Usernames are 3 to"),
        ("alpha-admin", PASSWORD, PASSWORD, "already taken"),
        ("root-like", "short", "short", "at least 10 characters"),
        ("root-like", "alllowercase", "alllowercase", "at least two of"),
        ("root-like", " " * 12, " " * 12, "only whitespace"),
        ("root-like", PASSWORD, PASSWORD + "x", "differ"),
    ],
)
def test_bad_user_input_gives_an_inline_message_and_writes_nothing(
    qtbot, admin_fleet, username, password, repeat, says
):
    before = usernames(admin_fleet)
    form = UserDialog(session(admin_fleet, ROOT), scope_hint=admin_fleet.org["alpha"])
    qtbot.addWidget(form)
    with qtbot.waitSignal(form.scope_picker.loaded, timeout=10_000):
        form.show()
    form.username_edit.setText(username)
    form.password_edit.setText(password)
    form.repeat_edit.setText(repeat)
    assert says in submit_refused(qtbot, form)
    assert usernames(admin_fleet) == before


def test_superadmin_manages_superadmins(qtbot, admin_fleet):
    dialog = users_dialog(qtbot, admin_fleet, ROOT)
    assert dialog.tabs.count() == 2
    form = open_form(qtbot, dialog, dialog.new_admin_button)
    assert isinstance(form, SuperadminDialog)
    form.username_edit.setText("night-shift")
    form.password_edit.setText("weak")
    form.repeat_edit.setText("weak")
    assert "at least 10 characters" in submit_refused(qtbot, form)
    form.password_edit.setText(PASSWORD)
    form.repeat_edit.setText(PASSWORD)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        submit_ok(qtbot, form)
    assert dialog.select_superadmin("night-shift")
    assert admin_fleet.services.users.authenticate("night-shift", PASSWORD).is_superadmin
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        click(qtbot, dialog.admin_active_button)
    assert dialog.selected_superadmin().is_active is False
    with pytest.raises(AuthenticationFailed):
        admin_fleet.services.users.authenticate("night-shift", PASSWORD)


def test_everyone_changes_their_own_password(qtbot, admin_fleet):
    users = admin_fleet.services.users
    users.create_user(
        ROOT,
        username="self-service",
        password=PASSWORD,
        role="viewer",
        scope_org_id=admin_fleet.org["paris"],
    )
    me = users.authenticate("self-service", PASSWORD)
    form = PasswordDialog(session(admin_fleet, me))
    qtbot.addWidget(form)
    form.show()
    form.current_edit.setText("not my password")
    form.new_edit.setText(NEW_PASSWORD)
    form.repeat_edit.setText(NEW_PASSWORD)
    assert "current password is not correct" in submit_refused(qtbot, form)
    form.current_edit.setText(PASSWORD)
    form.new_edit.setText("tooweak")
    form.repeat_edit.setText("tooweak")
    assert "at least 10 characters" in submit_refused(qtbot, form)
    users.authenticate("self-service", PASSWORD)
    form.new_edit.setText(NEW_PASSWORD)
    form.repeat_edit.setText(NEW_PASSWORD)
    submit_ok(qtbot, form)
    assert not form.isVisible()
    assert users.authenticate("self-service", NEW_PASSWORD).username == "self-service"


def test_company_admin_sees_and_scopes_users_only_inside_the_company(qtbot, admin_fleet, people):
    f = admin_fleet.org
    admin = people["admin"]
    dialog = users_dialog(qtbot, admin_fleet, admin)
    assert dialog.tabs.count() == 1, "no superadmin tab"
    seen = [u.username for u in dialog.users.records()]
    assert "zeta-admin" not in seen and "alpha-viewer" in seen

    form = open_form(qtbot, dialog, dialog.new_button)
    offered = {form.scope_picker.itemData(i) for i in range(form.scope_picker.count())}
    assert f["acme"] not in offered and f["lyon"] not in offered
    assert {f["alpha"], f["berlin"], f["paris"]} <= offered
    form.username_edit.setText("wider-scope")
    form.password_edit.setText(PASSWORD)
    form.repeat_edit.setText(PASSWORD)
    form.scope_picker.addItem("Acme MSP (forced)", f["acme"])
    form.scope_picker.select(f["acme"])
    assert "No tenant, company or branch" in submit_refused(qtbot, form)
    assert "wider-scope" not in usernames(admin_fleet)
    form.reject()

    assert dialog.select_user("alpha-admin")
    own = open_form(qtbot, dialog, dialog.edit_button)
    assert "cannot change your own" in submit_refused(qtbot, own)
    own.reject()

    assert dialog.select_user("alpha-viewer")
    escalate = open_form(qtbot, dialog, dialog.edit_button)
    escalate.scope_picker.addItem("Zeta (forced)", f["zeta"])
    escalate.scope_picker.select(f["zeta"])
    assert "No tenant, company or branch" in submit_refused(qtbot, escalate)
    viewer = next(u for u in dialog.users.records() if u.username == "alpha-viewer")
    assert (viewer.role, viewer.scope_org_id) == ("viewer", f["alpha"])


def test_viewer_sees_users_but_every_change_is_disabled(qtbot, admin_fleet, people):
    dialog = users_dialog(qtbot, admin_fleet, people["viewer"])
    assert dialog.select_user("alpha-admin")
    for button in (
        dialog.new_button,
        dialog.edit_button,
        dialog.reset_button,
        dialog.active_button,
    ):
        assert not button.isEnabled(), button.text()
    assert "viewer" in dialog.note.text()
    form = UserDialog(session(admin_fleet, people["viewer"]))
    qtbot.addWidget(form)
    with qtbot.waitSignal(form.scope_picker.loaded, timeout=10_000):
        form.show()
    form.username_edit.setText("by-viewer")
    form.password_edit.setText(PASSWORD)
    form.repeat_edit.setText(PASSWORD)
    assert "Viewers can look" in submit_refused(qtbot, form)
    assert "by-viewer" not in usernames(admin_fleet)
