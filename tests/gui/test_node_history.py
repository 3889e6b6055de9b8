"""A tenant's, company's or branch's History tab: its agents together over time (average,
max, agents reporting) with the agent charts' presets, and its top agents, over both
backends and inside the signed-in user's scope."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from argos_desktop.charts.time_range import TimeRange
from argos_desktop.detail.detail_pane import DetailPane
from argos_desktop.session import ConsoleSession
from tests.factories import add_samples
from tests.gui.conftest import PASSWORD, ROOT, Fleet, session_for

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

HOUR = 1_790_000_000 // 3600 * 3600
NOW = HOUR + 2 * 3600 + 0.5
# Each agent's CPU over three samples in the hour starting at HOUR; memory rises with it.
CPU = {"berlin-web-01": 20.0, "berlin-web-02": 60.0, "paris-web-01": 90.0}


@pytest.fixture
def busy(fleet: Fleet) -> Fleet:
    for hostname, cpu in CPU.items():
        add_samples(
            fleet.services.session_factory,
            fleet.agents[hostname],
            [{"ts": HOUR + 60 * i, "cpu_percent": cpu, "mem_percent": 100 - cpu} for i in range(3)],
        )
    return fleet


def open_pane(qtbot, session: ConsoleSession) -> Iterator[DetailPane]:
    pane = DetailPane(session, clock=lambda: NOW)
    pane.resize(1200, 900)
    pane.show()
    qtbot.waitExposed(pane)
    yield pane
    qtbot.waitUntil(lambda: not pane.busy, timeout=20_000)
    pane.close()
    pane.deleteLater()


@pytest.fixture
def pane(qtbot, busy: Fleet) -> Iterator[DetailPane]:
    yield from open_pane(qtbot, session_for(busy))


def open_history(qtbot, pane: DetailPane, org_id: str):
    """Select the node, then its History tab; returns the charts and the top-agents table
    once both have drawn."""
    with qtbot.waitSignal(pane.loaded, timeout=20_000):
        pane.show_node("company", org_id)
    charts, top = pane.node_history.ensure_built()
    with qtbot.waitSignals([charts.dataShown, top.loaded], timeout=20_000):
        pane.org_view.tabs.setCurrentWidget(pane.node_history)
    return charts, top


def at_hour(charts, column: str) -> float:
    data = charts.data
    return float(data.values[column][np.nonzero(data.ts == HOUR)[0][0]])


def test_a_company_history_shows_average_max_and_agents_reporting(qtbot, busy, pane):
    charts, top = open_history(qtbot, pane, busy.org["alpha"])
    assert at_hour(charts, "cpu_percent") == pytest.approx(170 / 3)
    assert at_hour(charts, "cpu_percent_max") == pytest.approx(90.0)
    assert at_hour(charts, "mem_percent_max") == pytest.approx(80.0)
    assert at_hour(charts, "agents_reporting") == 3
    assert charts.time_range.label == "24 h"
    assert "rollups across the agents" in charts.info_label.text()
    assert charts.charts["agents"].readout_text()
    assert top.hostnames() == ["paris-web-01", "berlin-web-02", "berlin-web-01"]


def test_the_history_loads_only_once_its_tab_is_shown(qtbot, busy, pane):
    with qtbot.waitSignal(pane.loaded, timeout=20_000):
        pane.show_node("company", busy.org["alpha"])
    assert pane.node_history.charts is None
    assert pane._session.backend.calls["node_aggregate"] == 0
    charts, top = pane.node_history.ensure_built()
    with qtbot.waitSignals([charts.dataShown, top.loaded], timeout=20_000):
        pane.org_view.tabs.setCurrentWidget(pane.node_history)
    assert pane._session.backend.calls["node_aggregate"] == 1
    # Another node with the tab still open is read at once.
    with qtbot.waitSignals([charts.dataShown, top.loaded], timeout=20_000):
        pane.show_node("company", busy.org["beta"])
    assert len(charts.data) == 0
    assert top.hostnames() == []


def test_a_preset_reloads_the_charts_and_the_top_agents_for_its_range(qtbot, busy, pane):
    charts, top = open_history(qtbot, pane, busy.org["alpha"])
    with qtbot.waitSignals([charts.dataShown, top.loaded], timeout=20_000):
        charts.preset_buttons["1 y"].click()
    assert charts.time_range == TimeRange.preset("1 y")
    calls = [args for name, args, _ in pane._session.backend.args if name == "top_agents"]
    assert calls[-1][2:] == (int(NOW) + 1 - 365 * 86400, int(NOW) + 1)
    # A year in fewer points than hours: buckets of several hours, the agents counted once.
    assert charts.data.bucket_s > 3600
    assert np.nanmax(charts.data.values["agents_reporting"]) == 3
    with qtbot.waitSignal(top.loaded, timeout=20_000):
        top.metric.setCurrentIndex(top.metric.findData("mem_percent"))
    assert top.hostnames() == ["berlin-web-01", "berlin-web-02", "paris-web-01"]


def test_double_clicking_a_top_agent_opens_it(qtbot, busy, pane):
    _, top = open_history(qtbot, pane, busy.org["alpha"])
    with qtbot.waitSignal(pane.agentActivated) as opened:
        top.table.doubleClicked.emit(top.table.model().index(0, 1))
    assert opened.args == [busy.agents["paris-web-01"]]


def test_a_branch_admin_sees_the_history_of_their_branch_only(qtbot, busy):
    busy.services.users.create_user(
        ROOT,
        username="berlin-admin",
        password=PASSWORD,
        role="admin",
        scope_org_id=busy.org["berlin"],
    )
    admin = busy.services.users.authenticate("berlin-admin", PASSWORD)
    for pane in open_pane(qtbot, busy.sign_in(admin, PASSWORD)):
        charts, top = open_history(qtbot, pane, busy.org["berlin"])
        assert at_hour(charts, "agents_reporting") == 2
        assert top.hostnames() == ["berlin-web-02", "berlin-web-01"]
        with qtbot.waitSignal(pane.loaded, timeout=20_000):
            pane.show_node("company", busy.org["alpha"])
        assert "outside your scope" in pane.message()
        assert pane.node_history.charts.data.ts.size == 0
