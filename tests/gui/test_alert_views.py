"""The console's alert views over both backends: the problems list (filters, history,
acknowledgement with a comment), badges on the fleet tree, the tray icon and its
notifications, and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QEvent, QPoint, QSettings, QTimer
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QStyleOptionViewItem, QToolTip

from argos_core import transactions
from argos_core.alerts.evaluation import RuleCache, ThresholdEvaluator, absence_pass
from argos_core.settings import StatusPolicy
from argos_desktop.alerts.alert_tray import AlertTray
from argos_desktop.alerts.alert_watch import AlertWatch
from argos_desktop.alerts.problem_columns import local_time
from argos_desktop.alerts.problems_view import ProblemsView
from argos_desktop.alerts.rules_dialog import RulesDialog
from argos_desktop.alerts.severity import colour
from argos_desktop.main_window import MainWindow
from tests.alert_support import agent_id, store
from tests.gui.conftest import PASSWORD, ROOT, FakeDetailPane, Fleet, session_for

T0 = 1_790_000_000
WAIT_MS = 10_000


def cpu_rule(fleet: Fleet) -> None:
    fleet.services.alerts.create_rule(
        ROOT,
        fleet.org["acme"],
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        recover_at=70,
        severity="critical",
    )


def cpu_sample(fleet: Fleet, hostname: str, ts: int, cpu: float):
    """Store a sample and judge it as the server would."""
    services = fleet.services
    uuid = fleet.agents[hostname]
    evaluator = ThresholdEvaluator(services.session_factory, RuleCache(ttl_s=0))
    return evaluator.evaluate(
        {agent_id(services, uuid): store(services, uuid, ts, cpu_percent=cpu)}
    )


def berlin_offline(fleet: Fleet) -> None:
    """Warnings for Berlin's silent agents (one offline, one overdue), opened by an absence
    pass run as the server runs it: again if SQLite was busy with the test server's own jobs
    (which may also be the ones that open them)."""
    services = fleet.services
    services.alerts.create_rule(ROOT, fleet.org["berlin"], condition="offline", severity="warning")
    transactions.run(
        lambda: absence_pass(services.session_factory, StatusPolicy()), what="absence pass"
    )
    opened = services.alerts.list_alerts(ROOT, node=fleet.org["berlin"]).items
    silent = sorted(a.hostname for a in opened if a.condition == "offline")
    assert silent == ["berlin-db-01", "berlin-db-02"]


def refreshed(qtbot, watch: AlertWatch) -> None:
    with qtbot.waitSignal(watch.changed, timeout=WAIT_MS):
        watch.refresh()


def problems(qtbot, session) -> ProblemsView:
    watch = AlertWatch(session.backend)
    view = ProblemsView(session, watch)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=WAIT_MS):
        watch.refresh()
    return view


def hosts(view: ProblemsView) -> list[str]:
    return sorted(a.hostname for a in view.model.records())


def test_problems_list_filters_acknowledges_with_a_comment_and_shows_history(
    qtbot, qtmodeltester, fleet
):
    cpu_rule(fleet)
    assert len(cpu_sample(fleet, "berlin-web-01", T0, 97.5).opened) == 1
    berlin_offline(fleet)
    view = problems(qtbot, session_for(fleet))
    qtmodeltester.check(view.model)
    assert hosts(view) == ["berlin-db-01", "berlin-db-02", "berlin-web-01"]
    web = next(a for a in view.model.records() if a.hostname == "berlin-web-01")
    row = view.model.records().index(web)
    texts = [view.model.index(row, c).data() for c in range(view.model.columnCount())]
    assert texts[0] == "Critical" and texts[2] == "Acme MSP / Alpha Corp / Berlin"
    assert texts[3] == "cpu_percent above 90" and (texts[5], texts[6]) == ("97.5", "open")

    view.severity_box.setCurrentIndex(view.severity_box.findData("critical"))
    assert hosts(view) == ["berlin-web-01"]
    view.severity_box.setCurrentIndex(0)
    view.filter_box.setText("db-02")
    assert hosts(view) == ["berlin-db-02"]
    view.filter_box.clear()

    view.table.selectRow(view.model.records().index(web))
    assert view.ack_button.isEnabled()
    view.comment_box.setText("replacing the fan")
    with qtbot.waitSignal(view.acknowledged, timeout=WAIT_MS) as acked:
        view.ack_button.click()
    assert (acked.args[0].state, acked.args[0].ack_comment) == ("acknowledged", "replacing the fan")
    qtbot.waitUntil(
        lambda: (
            "acknowledged by" in view.model.index(0, 6).data()
            or any(a.state == "acknowledged" for a in view.model.records())
        ),
        timeout=WAIT_MS,
    )
    acked_row = next(a for a in view.model.records() if a.hostname == "berlin-web-01")
    assert acked_row.acked_by.endswith("root") and view.comment_box.text() == ""

    assert len(cpu_sample(fleet, "berlin-web-01", T0 + 30, 50.0).resolved) == 1
    with qtbot.waitSignal(view.loaded, timeout=WAIT_MS):
        view.history_box.setChecked(True)
    [resolved] = view.model.records()
    assert resolved.hostname == "berlin-web-01" and resolved.state == "resolved"
    view.table.selectRow(0)
    assert not view.ack_button.isEnabled()  # nothing left to acknowledge


def test_an_acknowledgement_from_the_problems_list_can_lapse_after_a_chosen_while(qtbot, fleet):
    cpu_rule(fleet)
    cpu_sample(fleet, "berlin-web-01", T0, 97.5)
    view = problems(qtbot, session_for(fleet))
    view.table.selectRow(0)
    view.comment_box.setText("rebooting")
    view.ack_span_box.setCurrentIndex(view.ack_span_box.findText("for 4 hours"))
    before = datetime.now(UTC)
    with qtbot.waitSignal(view.acknowledged, timeout=WAIT_MS) as acked:
        view.ack_button.click()
    after = datetime.now(UTC)
    alert = acked.args[0]
    assert alert.state == "acknowledged" and alert.ack_comment == "rebooting"
    assert before + timedelta(hours=4) <= alert.acked_until <= after + timedelta(hours=4)
    assert view.message.text() == (
        f"Acknowledged until {local_time(alert.acked_until)}: berlin-web-01, cpu_percent above 90"
    )
    assert view.ack_span_box.currentData() is None  # back to "until it resolves"
    qtbot.waitUntil(lambda: view.model.records()[0].state == "acknowledged", timeout=WAIT_MS)
    assert view.model.index(0, 6).data() == (
        f"acknowledged by {alert.acked_by} until {local_time(alert.acked_until)}"
    )


def test_viewers_read_problems_of_their_scope_only_and_cannot_acknowledge(qtbot, fleet):
    cpu_rule(fleet)
    cpu_sample(fleet, "berlin-web-01", T0, 97.5)
    cpu_sample(fleet, "oslo-node-03", T0, 99.0)
    users = fleet.services.users
    for name, scope in (("alpha-viewer", "alpha"), ("zeta-viewer", "zeta")):
        users.create_user(
            ROOT, username=name, password=PASSWORD, role="viewer", scope_org_id=fleet.org[scope]
        )
    alpha = problems(qtbot, fleet.sign_in(users.authenticate("alpha-viewer", PASSWORD), PASSWORD))
    assert hosts(alpha) == ["berlin-web-01"]
    assert alpha.ack_button.isHidden() and alpha.comment_box.isHidden()
    assert alpha.ack_span_box.isHidden()
    zeta = problems(qtbot, fleet.sign_in(users.authenticate("zeta-viewer", PASSWORD), PASSWORD))
    assert hosts(zeta) == []  # Zeta's rules are not Acme's: Oslo has none


def test_the_tray_is_coloured_by_the_worst_alert_and_tells_of_each_new_critical_one(qtbot, fleet):
    watch = AlertWatch(session_for(fleet).backend)
    tray = AlertTray(watch)
    told: list[tuple[str, str]] = []
    tray.notified.connect(lambda title, text: told.append((title, text)))
    refreshed(qtbot, watch)
    assert tray.severity is None and "no open alerts" in tray.icon.toolTip()
    assert _centre(tray) == colour(None)

    berlin_offline(fleet)
    refreshed(qtbot, watch)
    assert tray.severity == "warning" and _centre(tray) == colour("warning")
    assert told == []

    cpu_rule(fleet)
    cpu_sample(fleet, "paris-web-01", T0, 98.0)
    refreshed(qtbot, watch)
    assert tray.severity == "critical" and _centre(tray) == colour("critical")
    assert tray.icon.toolTip() == "Argos: 3 open alerts (1 critical)"
    assert told == [
        ("Critical: paris-web-01", "cpu_percent above 90\nAcme MSP / Alpha Corp / Paris")
    ]
    refreshed(qtbot, watch)
    assert len(told) == 1  # told once, not on every refresh


def _centre(tray: AlertTray):
    image = tray.icon.icon().pixmap(32, 32).toImage()
    return image.pixelColor(16, 16)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")
def test_tree_nodes_carry_badges_and_the_alerts_menu_opens_the_problems_list(
    qtbot, fleet, settings
):
    cpu_rule(fleet)
    cpu_sample(fleet, "berlin-web-01", T0, 97.5)
    berlin_offline(fleet)
    now = datetime.now(UTC)
    maintenance = fleet.services.alerts.create_maintenance(
        ROOT, fleet.org["alpha"], now - timedelta(minutes=10), 3600, comment="patching"
    )
    fleet.services.alerts.create_maintenance(  # not open now: no tag
        ROOT, fleet.org["zeta"], now + timedelta(hours=1), 3600
    )
    window = MainWindow(
        session_for(fleet), settings, refresh_timer=QTimer(), detail_factory=FakeDetailPane
    )
    qtbot.addWidget(window)
    with (
        qtbot.waitSignal(window.alerts.watch.changed, timeout=WAIT_MS),
        qtbot.waitSignal(window.fleet.model.pageLoaded, timeout=WAIT_MS),
    ):
        window.start()
    model, badges = window.fleet.model, window.alerts.badges
    f = fleet.org
    assert badges.badge_text(model.index_for_key(f["acme"])) == ("3", "critical")
    assert badges.badge_text(model.index_for_key(f["zeta"])) is None
    assert window.fleet.tree.itemDelegateForColumn(0) is badges
    assert maintenance.open_until is not None
    with qtbot.waitSignal(model.pageLoaded, timeout=WAIT_MS):
        model.fetchMore(model.index_for_key(f["acme"]))
    with qtbot.waitSignal(model.pageLoaded, timeout=WAIT_MS):
        model.fetchMore(model.index_for_key(f["alpha"]))
    for key in ("alpha", "berlin", "paris"):  # the node and those under it
        assert badges.maintenance_until(model.index_for_key(f[key])) == maintenance.open_until
    for key in ("acme", "beta", "zeta"):
        assert badges.maintenance_until(model.index_for_key(f[key])) is None
    tree, berlin = window.fleet.tree, model.index_for_key(f["berlin"])
    tip = QHelpEvent(QEvent.Type.ToolTip, QPoint(5, 5), tree.mapToGlobal(QPoint(5, 5)))
    assert badges.helpEvent(tip, tree, QStyleOptionViewItem(), berlin)
    until = maintenance.open_until.astimezone()
    assert QToolTip.text() == f"In maintenance until {until:%Y-%m-%d %H:%M}: no notifications"
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "A&lerts")
    alerts = window.alerts
    assert {
        alerts.show_action,
        alerts.rules_action,
        alerts.channels_action,
        alerts.maintenance_action,
    } <= set(menu.actions())
    alerts.maintenance_action.trigger()
    assert alerts.maintenance_dialog is not None and alerts.maintenance_dialog.isVisible()
    qtbot.waitSignal(alerts.maintenance_dialog.loaded, timeout=WAIT_MS).wait()
    alerts.channels_action.trigger()
    assert alerts.channels_dialog is not None and alerts.channels_dialog.isVisible()
    qtbot.waitSignal(alerts.channels_dialog.loaded, timeout=WAIT_MS).wait()
    window.alerts.show_action.trigger()
    assert window.alerts.problems.isVisible()
    assert sorted(a.hostname for a in window.alerts.problems.model.records()) == [
        "berlin-db-01",
        "berlin-db-02",
        "berlin-web-01",
    ]


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")
def test_the_rules_dialog_lists_rules_and_creates_one_on_a_node(qtbot, qtmodeltester, fleet):
    cpu_rule(fleet)
    users = fleet.services.users
    users.create_user(
        ROOT,
        username="alpha-admin",
        password=PASSWORD,
        role="admin",
        scope_org_id=fleet.org["alpha"],
    )
    admin = fleet.sign_in(users.authenticate("alpha-admin", PASSWORD), PASSWORD)
    dialog = RulesDialog(admin)
    qtbot.addWidget(dialog)
    qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS).wait()
    qtmodeltester.check(dialog.rules)
    [inherited] = dialog.rules.records()
    assert inherited.inherited and dialog.rules.index(0, 4).data() == "above your scope"

    dialog.node_edit.setText(fleet.org["berlin"])
    dialog.metric_box.setCurrentText("mem_percent")
    dialog.threshold_spin.setValue(85)
    dialog.recover_edit.setText("70")
    dialog.for_spin.setValue(120)
    dialog.severity_box.setCurrentText("critical")
    with (
        qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS),
        qtbot.waitSignal(dialog.created, timeout=WAIT_MS) as made,
    ):
        dialog.create_button.click()
    rule = made.args[0]
    assert (rule.node, rule.metric, rule.threshold, rule.recover_at, rule.for_s) == (
        fleet.org["berlin"],
        "mem_percent",
        85,
        70,
        120,
    )
    texts = sorted(dialog.rules.index(r, 1).data() for r in range(dialog.rules.rowCount()))
    assert texts == [
        "cpu_percent above 90, recovers at 70",
        "mem_percent above 85, recovers at 70 for 120 s",
    ]

    messages = []
    for node in (fleet.org["zeta"], "ZZZZZZ"):  # outside the admin's scope, as if unknown
        dialog.node_edit.setText(node)
        with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
            dialog.create_button.click()
        messages.append(dialog.message.text().replace(node, "<node>"))
    assert messages[0] == messages[1] != ""
    assert dialog.rules.rowCount() == 2


def row_of(dialog: RulesDialog, rule_id: int) -> int:
    return [r.id for r in dialog.rules.records()].index(rule_id)


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")
def test_the_rules_dialog_overrides_an_inherited_rule_for_a_subtree_and_switches_own_rules(
    qtbot, fleet
):
    cpu_rule(fleet)
    users = fleet.services.users
    users.create_user(
        ROOT,
        username="alpha-admin",
        password=PASSWORD,
        role="admin",
        scope_org_id=fleet.org["alpha"],
    )
    dialog = RulesDialog(fleet.sign_in(users.authenticate("alpha-admin", PASSWORD), PASSWORD))
    qtbot.addWidget(dialog)
    qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS).wait()
    [inherited] = dialog.rules.records()
    assert not dialog.override_button.isEnabled()
    dialog.table.selectRow(0)
    assert dialog.override_button.isEnabled() and not dialog.switch_button.isEnabled()

    dialog.override_node.setText(fleet.org["berlin"])
    dialog.override_threshold.setText("95")
    dialog.override_severity.setCurrentIndex(dialog.override_severity.findData("warning"))
    with (
        qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS),
        qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as made,
    ):
        dialog.override_button.click()
    override = made.args[0]
    assert (override.overrides_id, override.node, override.threshold, override.recover_at) == (
        inherited.id,
        fleet.org["berlin"],
        95,
        None,
    )
    assert (override.severity, override.enabled, override.metric) == (
        "warning",
        True,
        "cpu_percent",
    )
    row = row_of(dialog, override.id)
    assert dialog.rules.index(row, 4).data() == f"here, overrides rule {inherited.id}"
    assert dialog.message.text() == (
        f"Rule {inherited.id} overridden under {fleet.org['berlin']}: cpu_percent above 95"
    )

    dialog.table.selectRow(row_of(dialog, inherited.id))
    dialog.override_node.setText(fleet.org["paris"])
    dialog.override_off.setChecked(True)
    assert not dialog.override_threshold.isEnabled()
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS) as made:
        dialog.override_button.click()
    assert (made.args[0].node, made.args[0].enabled) == (fleet.org["paris"], False)
    qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS).wait()

    dialog.table.selectRow(row_of(dialog, override.id))
    assert dialog.switch_button.isEnabled() and dialog.switch_button.text() == "Switch off"
    with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
        dialog.switch_button.click()
    assert not dialog.rules.records()[row_of(dialog, override.id)].enabled
    dialog.table.selectRow(row_of(dialog, override.id))
    assert dialog.switch_button.text() == "Switch on"

    dialog.table.selectRow(row_of(dialog, inherited.id))
    dialog.override_off.setChecked(False)
    dialog.override_node.setText(fleet.org["zeta"])  # outside Alpha: refused as unknown
    with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
        dialog.override_button.click()
    assert fleet.org["zeta"] in dialog.message.text()
    dialog.override_node.setText(fleet.org["berlin"])
    dialog.override_threshold.setText("high")
    dialog.override_button.click()  # refused by the form itself
    assert dialog.message.text() == "'Threshold there' must be a number, not 'high'."
    stored = {r.id: r.enabled for r in fleet.services.alerts.list_rules(ROOT)}
    assert len(stored) == 3 and stored[override.id] is False and stored[inherited.id] is True
