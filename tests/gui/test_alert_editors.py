"""The notification-channel and maintenance-window editors over both backends: a client
admin lists, adds and removes inside their scope and is told plainly what was refused;
viewers read only."""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QDateTime

from argos_desktop.alerts.channels_dialog import ChannelsDialog
from argos_desktop.alerts.maintenance_dialog import MaintenanceDialog
from tests.gui.conftest import PASSWORD, ROOT

WAIT_MS = 10_000
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def signed_in(fleet, username: str, role: str, scope: str):
    users = fleet.services.users
    users.create_user(
        ROOT, username=username, password=PASSWORD, role=role, scope_org_id=fleet.org[scope]
    )
    return fleet.sign_in(users.authenticate(username, PASSWORD), PASSWORD)


def opened(qtbot, dialog):
    qtbot.addWidget(dialog)
    qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS).wait()
    return dialog


def clicked(qtbot, dialog, button) -> None:
    with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
        button.click()


def test_channels_are_listed_added_and_removed_inside_the_admins_scope(qtbot, qtmodeltester, fleet):
    alerts = fleet.services.alerts
    alerts.create_channel(ROOT, fleet.org["acme"], "email", "msp@example.com")  # above Alpha
    alerts.create_channel(ROOT, fleet.org["paris"], "email", "paris@example.com")
    dialog = opened(qtbot, ChannelsDialog(signed_in(fleet, "alpha-admin", "admin", "alpha")))
    qtmodeltester.check(dialog.records)
    assert [c.target for c in dialog.records.records()] == ["paris@example.com"]

    dialog.node_edit.setText(fleet.org["berlin"])
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("webhook"))
    dialog.target_edit.setText("https://hooks.example/berlin")
    dialog.severity_box.setCurrentText("critical")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as made:
        clicked(qtbot, dialog, dialog.add_button)
    hook = made.args[0]
    assert (hook.node, hook.kind, hook.target, hook.min_severity) == (
        fleet.org["berlin"],
        "webhook",
        "https://hooks.example/berlin",
        "critical",
    )
    row = [c.id for c in dialog.records.records()].index(hook.id)
    texts = [dialog.records.index(row, c).data() for c in range(4)]
    assert texts == [fleet.org["berlin"], "webhook", "https://hooks.example/berlin", "Critical"]

    dialog.target_edit.setText("ftp://nowhere")
    clicked(qtbot, dialog, dialog.add_button)
    assert dialog.message.text() == "A webhook is an http:// or https:// URL."
    dialog.target_edit.setText("https://hooks.example/zeta")
    dialog.node_edit.setText(fleet.org["zeta"])  # outside Alpha: refused as an unknown node
    clicked(qtbot, dialog, dialog.add_button)
    assert fleet.org["zeta"] in dialog.message.text()
    assert len(dialog.records.records()) == 2

    assert not dialog.remove_button.isEnabled()
    dialog.table.selectRow(row)
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS):
        clicked(qtbot, dialog, dialog.remove_button)
    assert [c.target for c in dialog.records.records()] == ["paris@example.com"]
    assert [c.target for c in alerts.list_channels(ROOT)] == [
        "msp@example.com",
        "paris@example.com",
    ]


def test_maintenance_windows_start_at_local_time_in_a_zone_repeat_and_end(
    qtbot, qtmodeltester, fleet
):
    dialog = opened(qtbot, MaintenanceDialog(signed_in(fleet, "alpha-admin", "admin", "alpha")))
    qtmodeltester.check(dialog.records)
    assert dialog.records.rowCount() == 0 and dialog.zone_box.currentText() != ""
    dialog.node_edit.setText(fleet.org["berlin"])
    dialog.start_edit.setDateTime(QDateTime(datetime(2026, 12, 1, 23, 30)))
    dialog.zone_box.setCurrentText("Europe/Berlin")
    dialog.minutes_spin.setValue(150)
    dialog.repeat_box.setCurrentIndex(dialog.repeat_box.findData("weekly"))
    dialog.comment_edit.setText("backups")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as made:
        clicked(qtbot, dialog, dialog.add_button)
    window = made.args[0]
    assert (window.starts_local, window.timezone, window.duration_s, window.repeat) == (
        "2026-12-01T23:30:00",
        "Europe/Berlin",
        9000,
        "weekly",
    )
    texts = [dialog.records.index(0, c).data() for c in range(4)]
    assert texts == [
        fleet.org["berlin"],
        "Tuesdays at 23:30, from 2026-12-01 (Europe/Berlin)",
        "2 h 30 min",
        "backups",
    ]

    dialog.zone_box.setCurrentText("Mars/Olympus")
    dialog.add_button.click()  # refused by the form itself, before any call
    assert dialog.message.text() == "'Mars/Olympus' is not a time zone (e.g. UTC, Europe/Berlin)."
    dialog.zone_box.setCurrentText("UTC")
    dialog.repeat_box.setCurrentIndex(dialog.repeat_box.findData("daily"))
    dialog.minutes_spin.setValue(25 * 60)
    clicked(qtbot, dialog, dialog.add_button)
    assert dialog.message.text() == "A daily maintenance window cannot last longer than its period."

    dialog.table.selectRow(0)
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS):
        clicked(qtbot, dialog, dialog.remove_button)
    assert dialog.records.rowCount() == 0
    assert fleet.services.alerts.list_maintenance(ROOT) == []


def test_viewers_read_channels_and_windows_without_a_form(qtbot, fleet):
    alerts = fleet.services.alerts
    alerts.create_channel(ROOT, fleet.org["berlin"], "email", "berlin@example.com")
    alerts.create_maintenance(ROOT, fleet.org["berlin"], datetime(2026, 12, 1, 2), 3600)
    session = signed_in(fleet, "alpha-viewer", "viewer", "alpha")
    for editor in (ChannelsDialog, MaintenanceDialog):
        dialog = opened(qtbot, editor(session))
        assert dialog.records.rowCount() == 1
        assert dialog.form.isHidden() and dialog.add_button.isHidden()
        assert dialog.remove_button.isHidden()
