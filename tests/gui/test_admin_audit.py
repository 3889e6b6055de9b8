"""The audit log view: filter, sort, page, and scope."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from argos_desktop.admin import audit_view
from argos_desktop.admin.audit_view import AuditLogDialog
from argos_desktop.admin.record_table_model import RecordTableModel
from tests.gui.admin_helpers import ROOT, admin_fleet, click, open_window, people, session

__all__ = ["admin_fleet", "people"]
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def audit_dialog(qtbot, fleet, principal, signed_in=None, tester=None) -> AuditLogDialog:
    dialog = AuditLogDialog(signed_in or session(fleet, principal))
    qtbot.addWidget(dialog)
    if tester is not None:
        tester.check(dialog.entries)  # before the first page arrives
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


def test_audit_log_filters_sorts_and_pages(qtbot, qtmodeltester, admin_fleet, monkeypatch):
    f = admin_fleet.org
    signed_in = session(admin_fleet, ROOT)  # signing in (to a server) is audited too
    admin_fleet.services.orgs.rename(ROOT, f["lyon"], "Lyon Centre")
    monkeypatch.setattr(audit_view, "PAGE_SIZE", 4)
    dialog = audit_dialog(qtbot, admin_fleet, ROOT, signed_in, tester=qtmodeltester)
    newest = dialog.entries.records()[0]
    assert (newest.action, newest.target) == ("branch.rename", f["lyon"])
    assert "Lyon Centre" in dialog.entries.index(0, 4).data()
    assert dialog.entries.rowCount() == 4 and dialog.older_button.isEnabled()
    assert not dialog.newer_button.isEnabled()
    assert dialog.page_label.text().startswith("1 to 4 of ")

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        click(qtbot, dialog.older_button)
    assert dialog.page_label.text().startswith("5 to 8 of ")
    assert dialog.newer_button.isEnabled()

    qtbot.waitUntil(lambda: dialog.action_box.findData("user.create") >= 0)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.set_action("user.create")
    assert dialog.offset == 0
    assert {e.action for e in dialog.entries.records()} == {"user.create"}

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.view.horizontalHeader().setSortIndicator(3, Qt.SortOrder.AscendingOrder)
    targets = [e.target for e in dialog.entries.records()]
    assert targets == sorted(targets) and targets[0] == "alpha-admin"

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.set_action(None)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        qtbot.keyClicks(dialog.text_edit, "zeta-ad")
        qtbot.keyClick(dialog.text_edit, Qt.Key.Key_Return)
    assert [e.target for e in dialog.entries.records()] == ["zeta-admin"]

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.text_edit.setText("nobody-at-all")
        dialog.filter_timer.timeout.emit()
    assert dialog.entries.rowCount() == 0
    assert dialog.page_label.text() == "No entries match."


def test_company_admin_audits_only_inside_the_company(qtbot, admin_fleet, people):
    f = admin_fleet.org
    dialog = audit_dialog(qtbot, admin_fleet, people["admin"])
    targets = {e.target for e in dialog.entries.records()}
    assert f["alpha"] in targets and f["berlin"] in targets
    for outside in (f["acme"], f["beta"], f["lyon"], f["zeta"], f["oslo"], "zeta-admin"):
        assert outside not in targets
    qtbot.waitUntil(lambda: dialog.action_box.count() > 1)
    offered = {dialog.action_box.itemText(i) for i in range(dialog.action_box.count())}
    assert "tenant.create" not in offered


def test_audit_log_opens_from_the_main_window(qtbot, admin_fleet, tmp_path):
    window = open_window(qtbot, admin_fleet, ROOT, tmp_path)
    with qtbot.waitSignal(window.admin.dialogOpened, timeout=5_000) as opened:
        window.admin.audit.trigger()
    dialog = opened.args[0]
    assert isinstance(dialog, AuditLogDialog)
    assert isinstance(dialog.entries, RecordTableModel)
    qtbot.waitUntil(lambda: dialog.entries.rowCount() > 0, timeout=10_000)
    dialog.close()


def test_audit_log_keeps_a_period(qtbot, admin_fleet):
    from PySide6.QtCore import QDate

    dialog = audit_dialog(qtbot, admin_fleet, ROOT)
    everything = dialog.total
    assert everything > 0
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.period_box.setCurrentIndex(dialog.period_box.findText("Last hour"))
    assert dialog.total == everything  # all made by the fixture just now
    assert not dialog.from_edit.isVisible()

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.period_box.setCurrentIndex(dialog.period_box.findText("Between dates"))
    assert dialog.from_edit.isVisible() and dialog.to_edit.isVisible()
    assert dialog.total == everything  # the last 7 days, today included
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.from_edit.setDate(QDate(2020, 1, 1))
        dialog.to_edit.setDate(QDate(2020, 1, 31))
    assert dialog.entries.rowCount() == 0
    assert dialog.page_label.text() == "No entries match."

    with qtbot.waitSignal(dialog.failed, timeout=10_000) as failed:
        dialog.to_edit.setDate(QDate(2019, 12, 1))
    assert failed.args == ["The period must end after it starts."]
    assert dialog.message.isVisible()
