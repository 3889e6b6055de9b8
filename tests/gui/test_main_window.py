"""The main window: live refresh in place, search, detail wiring, remembered layout."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QPalette

from argos_core.models import utcnow
from argos_desktop import theme
from argos_desktop.main_window import MainWindow
from argos_desktop.org_tree_model import KEY_ROLE, STATUS_ROLE
from argos_desktop.theme import ThemeManager
from argos_desktop.version import argos_version
from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.support import ServerThread
from tests.gui.conftest import (
    PASSWORD,
    ROOT,
    FakeDetailPane,
    Fleet,
    build_fleet,
    session_for,
)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


def make_window(qtbot, fleet: Fleet, settings: QSettings, timer: QTimer | None = None):
    window = MainWindow(
        session_for(fleet),
        settings,
        refresh_timer=timer or QTimer(),
        detail_factory=FakeDetailPane,
    )
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.fleet.model.pageLoaded, timeout=10_000):
        window.start()
    return window


def reveal(qtbot, window: MainWindow, path: list[str], key: str):
    model = window.fleet.model
    with qtbot.waitSignal(model.revealed, timeout=10_000):
        window.fleet.reveal(path, key)
    return model.index_for_key(key)


def test_live_refresh_keeps_expansion_and_selection(qtbot, fleet: Fleet, settings):
    timer = QTimer()
    window = make_window(qtbot, fleet, settings, timer)
    f = fleet.org
    agent = reveal(
        qtbot, window, [f["acme"], f["alpha"], f["berlin"]], fleet.agents["berlin-db-02"]
    )
    tree = window.fleet.tree
    assert tree.currentIndex() == agent
    assert agent.data(STATUS_ROLE) == "overdue"
    expanded = [window.fleet.model.index_for_key(f[k]) for k in ("acme", "alpha", "berlin")]
    assert all(tree.isExpanded(i) for i in expanded)

    fleet.set_seen("berlin-db-02", utcnow())
    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        timer.timeout.emit()
    assert all(tree.isExpanded(i) for i in expanded)
    assert tree.currentIndex().data(KEY_ROLE) == fleet.agents["berlin-db-02"]
    assert tree.currentIndex().data(STATUS_ROLE) == "online"
    assert window.refresh_label.text().startswith("Last refresh")
    assert window.detail.refreshes == 1
    assert window.detail.shown[-1] == ("agent", fleet.agents["berlin-db-02"])


def test_a_refresh_hands_the_shown_node_over_from_the_tree(qtbot, fleet: Fleet, settings):
    """The tree's refresh reads the selected company with its counts: the detail pane is told
    not to ask for it again and gets the tree's answer; an agent is asked for as before."""
    window = make_window(qtbot, fleet, settings)
    f = fleet.org
    company = reveal(qtbot, window, [f["acme"]], f["alpha"])
    window.fleet.tree.setCurrentIndex(company)
    assert window.detail.current == ("company", f["alpha"])
    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        window.refresh_now()
    assert window.detail.following[-1] is True
    assert [n.org_id for n in window.detail.arrived if n.org_id == f["alpha"]] == [f["alpha"]]
    agent = reveal(
        qtbot, window, [f["acme"], f["alpha"], f["berlin"]], fleet.agents["berlin-db-02"]
    )
    window.fleet.tree.setCurrentIndex(agent)
    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        window.refresh_now()
    assert window.detail.following[-1] is False


def test_refresh_interval_can_be_changed_and_paused(qtbot, fleet: Fleet, settings):
    timer = QTimer()
    window = make_window(qtbot, fleet, settings, timer)
    assert timer.isActive() and timer.interval() == 10_000
    window.set_interval(60)
    assert timer.interval() == 60_000
    window.pause_action.trigger()
    assert not timer.isActive() and window.is_paused()
    assert window.refresh_label.text() == "Live refresh paused"
    window.pause_action.trigger()
    assert timer.isActive()
    assert int(settings.value("view/refresh_interval_s")) == 60


def test_search_finds_hosts_server_side_and_reveals_them(qtbot, shared_fleet: Fleet, settings):
    window = make_window(qtbot, shared_fleet, settings)
    with qtbot.waitSignal(window.fleet.searchFinished, timeout=10_000) as found:
        window.search_box.setText("oslo-node-07")
        window.fleet.run_search()
    assert found.args == [1]
    results = window.fleet.results
    hit = results.hit(0)
    assert (hit.kind, hit.name) == ("agent", "oslo-node-07")
    assert results.index(0, 2).data() == "Zeta Hosting / Zeta Co / Oslo"
    index = results.index(0, 0)
    window.fleet.result_view.setCurrentIndex(index)
    assert window.detail.shown[-1] == ("agent", hit.key)
    with qtbot.waitSignal(window.fleet.model.revealed, timeout=10_000):
        window.fleet.result_view.activated.emit(index)
    assert window.fleet.tree.currentIndex().data(KEY_ROLE) == hit.key
    assert window.fleet.stack.currentWidget() is window.fleet.tree


def test_enter_on_a_single_hit_reveals_it_and_the_live_refresh_keeps_the_tree(
    qtbot, shared_fleet: Fleet, settings
):
    timer = QTimer()
    window = make_window(qtbot, shared_fleet, settings, timer)
    fleet = window.fleet
    window.focus_search()
    with qtbot.waitSignal(fleet.model.revealed, timeout=10_000):
        qtbot.keyClicks(window.search_box, "oslo-node-07")
        qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    agent = shared_fleet.agents["oslo-node-07"]
    assert fleet.stack.currentWidget() is fleet.tree
    assert fleet.tree.currentIndex().data(KEY_ROLE) == agent

    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        timer.timeout.emit()
    assert fleet.stack.currentWidget() is fleet.tree
    assert fleet.tree.currentIndex().data(KEY_ROLE) == agent
    assert window.detail.shown[-1] == ("agent", agent)

    with qtbot.waitSignal(fleet.searchFinished, timeout=10_000):
        qtbot.keyClicks(window.search_box, "x")  # typing again brings the results back
    assert fleet.stack.currentWidget() is not fleet.tree


def test_status_filter_lists_agents_in_that_status(qtbot, shared_fleet: Fleet, settings):
    window = make_window(qtbot, shared_fleet, settings)
    with qtbot.waitSignal(window.fleet.searchFinished, timeout=10_000):
        window.status_filter.setCurrentIndex(window.status_filter.findText("Overdue"))
    hits = [window.fleet.results.hit(r) for r in range(window.fleet.results.rowCount())]
    assert [(h.name, h.status) for h in hits] == [("berlin-db-02", "overdue")]
    qtbot.keyClick(window, "\x1b")  # Escape clears the search
    window.search_box.clear()
    window.status_filter.setCurrentIndex(0)
    assert window.fleet.stack.currentWidget() is window.fleet.tree


def test_agent_activated_in_the_detail_pane_selects_it_if_loaded(qtbot, shared_fleet, settings):
    window = make_window(qtbot, shared_fleet, settings)
    f = shared_fleet.org
    reveal(qtbot, window, [f["acme"], f["alpha"], f["paris"]], shared_fleet.agents["paris-web-01"])
    window.fleet.tree.setCurrentIndex(window.fleet.model.index_for_key(f["acme"]))
    window.detail.agentActivated.emit(shared_fleet.agents["paris-web-01"])
    assert window.fleet.tree.currentIndex().data(KEY_ROLE) == shared_fleet.agents["paris-web-01"]
    window.detail.agentActivated.emit(shared_fleet.agents["oslo-node-01"])  # not loaded: ignored
    assert window.fleet.tree.currentIndex().data(KEY_ROLE) == shared_fleet.agents["paris-web-01"]


def test_window_layout_is_remembered(qtbot, shared_fleet: Fleet, settings):
    window = make_window(qtbot, shared_fleet, settings)
    window.show()
    window.resize(1100, 700)
    window.splitter.setSizes([300, 800])
    sizes = window.splitter.sizes()
    window.close()
    again = make_window(qtbot, shared_fleet, settings)
    again.show()
    # The offscreen screen is small, so Qt fits the restored geometry to it; the saved
    # geometry itself is what the next start uses.
    assert not settings.value("window/geometry").isEmpty()
    assert again.splitter.sizes()[0] == sizes[0]


def test_status_bar_names_connection_and_user(qtbot, shared_fleet: Fleet, settings):
    window = make_window(qtbot, shared_fleet, settings)
    assert "Connected" in window.connection_label.text()
    assert "root" in window.user_label.text()
    window.fleet.model.refreshFailed.emit("The database is unavailable right now.")
    assert "unavailable" in window.connection_label.text()
    assert not window.banner.isHidden() and "unavailable right now" in window.banner.text()
    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        window.refresh_now()
    assert window.banner.isHidden()  # the problem cleared, so does its message


def test_the_servers_health_shows_in_the_status_bar_and_a_failure_as_a_banner(
    qtbot, fresh_database_url: str, settings
):
    fleet = build_fleet(fresh_database_url)
    server = ServerThread(fresh_database_url, TEST_CONFIG).start()
    fleet.server_url = server.url
    try:
        window = MainWindow(
            fleet.sign_in(ROOT, PASSWORD), settings, QTimer(), detail_factory=FakeDetailPane
        )
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.healthChecked, timeout=10_000) as checked:
            window.start()
        assert checked.args[0].ok
        assert window.health_label.isVisible() and "healthy" in window.health_label.text()
        assert not window.banner.isVisible()
    finally:
        server.stop()
    with qtbot.waitSignal(window.healthChecked, timeout=20_000) as checked:
        window.check_health()
    assert not checked.args[0].ok
    assert window.banner.isVisible() and "cannot be reached" in window.banner.text()
    assert "problem" in window.health_label.text()
    fleet.services.close()


def test_without_a_server_no_health_is_shown(qtbot, shared_fleet: Fleet, settings):
    window = make_window(qtbot, shared_fleet, settings)
    with qtbot.waitSignal(window.healthChecked, timeout=10_000) as checked:
        window.check_health()
    assert checked.args == [None]
    assert window.health_label.isHidden() and window.banner.isHidden()


def test_down_arrow_in_the_search_box_moves_into_the_results(qtbot, shared_fleet, settings):
    window = make_window(qtbot, shared_fleet, settings)
    with qtbot.waitSignal(window.fleet.searchFinished, timeout=10_000):
        window.search_box.setText("berlin-web")
        window.fleet.run_search()
    qtbot.keyClick(window.search_box, Qt.Key.Key_Down)
    assert window.fleet.result_view.currentIndex().row() == 0
    assert window.detail.shown[-1][0] == "agent"


def test_search_results_model_passes_the_qt_model_tester(
    qtbot, qtmodeltester, shared_fleet, settings
):
    window = make_window(qtbot, shared_fleet, settings)
    qtmodeltester.check(window.fleet.results)  # before the search fills it
    with qtbot.waitSignal(window.fleet.searchFinished, timeout=10_000):
        window.search_box.setText("o")
        window.fleet.run_search()
    assert window.fleet.results.rowCount() > 3


def test_an_agents_detail_names_its_company_and_tenant_over_either_backend(fleet):
    session = session_for(fleet)
    detail = session.backend.get_agent(fleet.agents["berlin-web-01"])
    assert (detail.company_name, detail.tenant_name) == ("Alpha Corp", "Acme MSP")
    assert (detail.company_org_id, detail.tenant_org_id) == (fleet.org["alpha"], fleet.org["acme"])
    session.backend.close()


def test_expanded_nodes_and_the_selection_come_back_at_the_next_start(
    qtbot, shared_fleet: Fleet, settings
):
    f = shared_fleet.org
    agent = shared_fleet.agents["berlin-db-01"]
    window = make_window(qtbot, shared_fleet, settings)
    reveal(qtbot, window, [f["acme"], f["alpha"], f["berlin"]], agent)
    with qtbot.waitSignal(window.fleet.model.pageLoaded, timeout=10_000):
        window.fleet.tree.expand(window.fleet.model.index_for_key(f["zeta"]))
    window.close()

    again = MainWindow(
        session_for(shared_fleet), settings, refresh_timer=QTimer(), detail_factory=FakeDetailPane
    )
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.fleet.model.revealed, timeout=10_000):
        again.start()
    model, tree = again.fleet.model, again.fleet.tree
    assert tree.currentIndex().data(KEY_ROLE) == agent
    assert again.detail.shown[-1] == ("agent", agent)
    for key in ("acme", "alpha", "berlin", "zeta"):
        assert tree.isExpanded(model.index_for_key(f[key])), key
    assert not tree.isExpanded(model.index_for_key(f["beta"]))


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's, for the box
def test_help_about_names_version_connection_and_view_theme_is_remembered(
    qtbot, qapp, shared_fleet: Fleet, settings
):
    themes = ThemeManager(qapp, forced="light")
    try:
        window = MainWindow(
            session_for(shared_fleet),
            settings,
            refresh_timer=QTimer(),
            detail_factory=FakeDetailPane,
            themes=themes,
        )
        qtbot.addWidget(window)
        about = window.about_text()
        assert argos_version() in about and "test database" in about and "root" in about
        window.about_action.trigger()
        assert window.about_box.isVisible()
        window.about_box.close()

        dark = next(a for a in window.theme_actions.actions() if a.data() == "dark")
        with qtbot.waitSignal(themes.themeChanged, timeout=5_000) as changed:
            dark.trigger()
        assert changed.args == ["dark"] and theme.current().name == "dark"
        assert settings.value("view/theme") == "dark"
    finally:
        themes.choose("light")
        qapp.setStyleSheet("")
        qapp.setPalette(QPalette())
