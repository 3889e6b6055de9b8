"""Enrollment keys of a branch and the agent actions (revoke, delete, move) from the console."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import QDateTime
from PySide6.QtGui import QGuiApplication

from argos_core.errors import AuthenticationFailed, NotFound
from argos_core.services.agent_inventory import AgentInventory
from argos_desktop.admin import forms
from argos_desktop.admin.agent_dialogs import AgentDialog
from argos_desktop.admin.enrollment_dialog import EnrollmentKeysDialog
from argos_desktop.org_tree_model import STATUS_ROLE
from tests.factories import add_agent, agent_row
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
SERVER = "http://argos.example.test:8080"


def keys_dialog(qtbot, fleet, principal, branch: str) -> EnrollmentKeysDialog:
    dialog = EnrollmentKeysDialog(session(fleet, principal), branch, "Branch", SERVER)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


def key_count(fleet, branch: str) -> int:
    return len(fleet.services.enrollment.list_keys(ROOT, branch))


def test_a_new_key_is_shown_once_with_the_install_command_then_listed_and_revoked(
    qtbot, admin_fleet, monkeypatch
):
    paris = admin_fleet.org["paris"]
    dialog = keys_dialog(qtbot, admin_fleet, ROOT, paris)
    assert not dialog.secret_box.isVisible()
    dialog.expiry_box.setCurrentIndex(dialog.expiry_box.findText("30 days"))
    qtbot.keyClicks(dialog.note_edit, "Paris rollout")
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        submit_ok(qtbot, dialog)
    key = dialog.key
    assert dialog.secret_box.isVisible() and dialog.key_field.text() == key.key
    assert dialog.command_field.text() == (
        f"argos-agent --server={SERVER} --branch={paris} --enrollment-key={key.key}"
    )
    click(qtbot, dialog.command_field.button)
    assert QGuiApplication.clipboard().text() == dialog.command_field.text()
    dialog.server_edit.setText("http://10.0.0.5:8080")
    assert dialog.command_field.text().startswith("argos-agent --server=http://10.0.0.5:8080 ")

    listed = dialog.keys.records()[0]
    assert (listed.key_id, listed.note, listed.state, listed.use_count) == (
        key.key_id,
        "Paris rollout",
        "active",
        0,
    )
    shown = [dialog.keys.index(0, c).data() for c in range(dialog.keys.columnCount())]
    assert key.key not in " ".join(shown)

    enrolled = admin_fleet.services.enrollment.enroll(
        paris, key.key, AgentInventory("paris-new-01", "machine-paris-new-01")
    )
    assert enrolled.created
    asked: list[str] = []
    monkeypatch.setattr(forms, "confirm", lambda _p, _t, text, _a: asked.append(text) or True)
    assert dialog.select_key(key.key_id)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        click(qtbot, dialog.revoke_button)
    assert "Paris rollout" in asked[0]
    revoked = dialog.keys.records()[0]
    assert (revoked.state, revoked.use_count) == ("revoked", 1)
    assert revoked.last_used_at is not None
    with pytest.raises(AuthenticationFailed):
        admin_fleet.services.enrollment.enroll(
            paris, key.key, AgentInventory("paris-new-02", "machine-paris-new-02")
        )


def test_bad_key_input_gives_an_inline_message_and_writes_nothing(qtbot, admin_fleet):
    berlin = admin_fleet.org["berlin"]
    before = key_count(admin_fleet, berlin)
    dialog = keys_dialog(qtbot, admin_fleet, ROOT, berlin)
    dialog.expiry_box.setCurrentIndex(dialog.expiry_box.findData("custom"))
    assert dialog.until_edit.isVisible()
    dialog.until_edit.setDateTime(QDateTime.currentDateTime().addDays(-1))
    assert "Expiry must be in the future" in submit_refused(qtbot, dialog)
    dialog.expiry_box.setCurrentIndex(1)
    dialog.note_edit.setText("n" * 201)
    assert "at most 200 characters" in submit_refused(qtbot, dialog)
    assert not dialog.secret_box.isVisible()
    assert key_count(admin_fleet, berlin) == before


def test_keys_are_scoped_and_viewers_cannot_create_or_revoke(qtbot, admin_fleet, people):
    f = admin_fleet.org
    admin_fleet.services.enrollment.issue_key(ROOT, f["berlin"], note="for viewers to see")
    viewer = keys_dialog(qtbot, admin_fleet, people["viewer"], f["berlin"])
    assert viewer.keys.rowCount() >= 1
    assert not viewer.ok_button.isEnabled()
    viewer.select_key(viewer.keys.records()[0].key_id)
    assert not viewer.revoke_button.isEnabled()

    outside = EnrollmentKeysDialog(session(admin_fleet, people["admin"]), f["oslo"], "Oslo", SERVER)
    qtbot.addWidget(outside)
    with qtbot.waitSignal(outside.failed, timeout=10_000) as refused:
        outside.show()
    assert "No tenant, company or branch" in refused.args[0]
    before = key_count(admin_fleet, f["oslo"])
    assert "No tenant, company or branch" in submit_refused(qtbot, outside)
    assert key_count(admin_fleet, f["oslo"]) == before


def open_keys_from_the_menu(qtbot, window, branch_path: list[str]) -> EnrollmentKeysDialog:
    select(qtbot, window, branch_path[:-1], branch_path[-1])
    with qtbot.waitSignal(window.admin.dialogOpened, timeout=10_000) as opened:
        window.admin.enrollment.trigger()
    return opened.args[0]


def test_the_install_command_names_the_server_in_use_and_remembers_a_typed_one(
    qtbot, admin_fleet, tmp_path
):
    f = admin_fleet.org
    path = [f["acme"], f["alpha"], f["berlin"]]
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    dialog = open_keys_from_the_menu(qtbot, window, path)
    in_use = admin_fleet.server_url or f"http://{socket.gethostname()}:8080"
    assert dialog.server_edit.text() == in_use
    dialog.server_edit.selectAll()
    qtbot.keyClicks(dialog.server_edit, "https://argos.example.test:8443")
    dialog.reject()

    again = open_keys_from_the_menu(qtbot, window, path)
    assert again.server_edit.text() == "https://argos.example.test:8443"
    again.server_edit.setText(f"  {in_use} ")
    again.reject()
    assert open_keys_from_the_menu(qtbot, window, path).server_edit.text() == in_use


def agent_dialog(qtbot, window, action: str) -> AgentDialog:
    getattr(window.admin, f"{action}_agent").trigger()
    dialog = window.admin.dialog
    assert isinstance(dialog, AgentDialog)
    if dialog.detail is None:
        with qtbot.waitSignal(dialog.loaded, timeout=10_000):
            pass
    return dialog


def test_agent_revoke_move_and_delete_from_the_tree(qtbot, admin_fleet, tmp_path):
    f = admin_fleet.org
    services = admin_fleet.services
    key = services.enrollment.issue_key(ROOT, f["berlin"], note="berlin wave 2")
    uuid = services.enrollment.enroll(
        f["berlin"], key.key, AgentInventory("berlin-mover", "machine-berlin-mover")
    ).agent_uuid
    victim = add_agent(services.session_factory, f["berlin"], "berlin-victim")
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    model = window.fleet.model
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    berlin_path = [f["acme"], f["alpha"], f["berlin"]]
    select(qtbot, window, berlin_path, uuid)
    select(qtbot, window, [f["acme"], f["alpha"]], f["paris"])
    window.fleet.tree.expand(model.index_for_key(f["paris"]))
    settle(qtbot, window)
    select(qtbot, window, berlin_path, uuid)

    move = agent_dialog(qtbot, window, "move")
    assert move.facts["key"].text() == f"#{key.key_id} (berlin wave 2)"
    assert move.facts["enrolled"].text() != "…"
    if not move.branch_picker.ready:
        with qtbot.waitSignal(move.branch_picker.loaded, timeout=10_000):
            pass
    move.branch_picker.select(f["berlin"])
    assert "already in that branch" in submit_refused(qtbot, move)
    assert move.branch_picker.select(f["paris"])
    with qtbot.waitSignal(window.admin.changed, timeout=10_000):
        click(qtbot, move.ok_button)
    moved = model.index_for_key(uuid)
    assert moved.isValid() and moved.parent() == model.index_for_key(f["paris"])
    assert services.agents.get_agent(ROOT, uuid).summary.branch_org_id == f["paris"]

    select(qtbot, window, [f["acme"], f["alpha"], f["paris"]], uuid)
    revoke = agent_dialog(qtbot, window, "revoke")
    submit_ok(qtbot, revoke)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: model.index_for_key(uuid).data(STATUS_ROLE) == "revoked")
    assert agent_row(services, uuid).revoked

    select(qtbot, window, berlin_path, victim)
    delete = agent_dialog(qtbot, window, "delete")
    assert "all its telemetry" in delete.intro.text()
    submit_ok(qtbot, delete)
    assert not model.index_for_key(victim).isValid()
    with pytest.raises(NotFound):
        services.agents.get_agent(ROOT, victim)
    settle(qtbot, window)
    assert resets == []


def test_company_admin_moves_agents_only_within_the_company_and_viewer_not_at_all(
    qtbot, admin_fleet, people
):
    f = admin_fleet.org
    uuid = admin_fleet.agents["paris-web-01"]
    dialog = AgentDialog(session(admin_fleet, people["admin"]), "move", uuid, "paris-web-01")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    if not dialog.branch_picker.ready:
        with qtbot.waitSignal(dialog.branch_picker.loaded, timeout=10_000):
            pass
    offered = {dialog.branch_picker.itemData(i) for i in range(dialog.branch_picker.count())}
    assert f["lyon"] not in offered and f["oslo"] not in offered and f["berlin"] in offered
    dialog.branch_picker.addItem("Oslo (forced)", f["oslo"])
    dialog.branch_picker.select(f["oslo"])
    assert "No tenant, company or branch" in submit_refused(qtbot, dialog)
    assert admin_fleet.services.agents.get_agent(ROOT, uuid).summary.branch_org_id == f["paris"]

    outside = AgentDialog(
        session(admin_fleet, people["admin"]), "delete", admin_fleet.agents["oslo-node-01"], "x"
    )
    qtbot.addWidget(outside)
    with qtbot.waitSignal(outside.failed, timeout=10_000) as refused:
        outside.show()
    assert "agent" in refused.args[0].lower()
    assert not outside.ok_button.isEnabled()

    viewer = AgentDialog(session(admin_fleet, people["viewer"]), "revoke", uuid, "paris-web-01")
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.loaded, timeout=10_000):
        viewer.show()
    assert not viewer.ok_button.isEnabled()
    assert not agent_row(admin_fleet.services, uuid).revoked
