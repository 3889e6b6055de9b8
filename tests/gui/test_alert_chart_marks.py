"""An agent's charts over both backends: a dashed line at each threshold of the rules in
force on the agent (overrides applied, in the severity's colour) on its metric's chart, and
the open alerts' spans shaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from argos_desktop.alerts.severity import colour
from argos_desktop.detail.detail_pane import DetailPane
from tests.gui.conftest import PASSWORD, ROOT
from tests.gui.test_alert_views import T0, WAIT_MS, berlin_offline, cpu_rule, cpu_sample


class Clock:
    """The pane's clock, set by the test once it knows when the alert opened."""

    now = float(T0)

    def __call__(self) -> float:
        return self.now


pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pane(qtbot, fleet, clock) -> Iterator[DetailPane]:
    pane = DetailPane(fleet.sign_in(ROOT, PASSWORD), clock=clock)
    pane.resize(1200, 900)
    pane.show()
    qtbot.waitExposed(pane)
    yield pane
    qtbot.waitUntil(lambda: not pane.busy, timeout=WAIT_MS)
    pane.close()


def lines(pane: DetailPane, chart: str) -> list[tuple[float, str, Qt.PenStyle]]:
    return [
        (line.value(), line.pen.color().name(), line.pen.style())
        for line in pane.agent_view.charts.charts[chart].threshold_lines
    ]


def spans(pane: DetailPane, chart: str) -> list[tuple[float, float]]:
    return [
        tuple(region.getRegion()) for region in pane.agent_view.charts.charts[chart].alert_regions
    ]


def test_thresholds_in_force_and_open_alerts_are_drawn_on_the_agents_charts(
    qtbot, fleet, pane, clock
):
    alerts, org = fleet.services.alerts, fleet.org
    cpu_rule(fleet)  # Acme: cpu_percent above 90, critical
    alerts.create_rule(
        ROOT,
        org["alpha"],
        metric="mem_percent",
        comparison="above",
        threshold=80,
        severity="warning",
    )
    disk = alerts.create_rule(
        ROOT,
        org["acme"],
        metric="disk_percent",
        comparison="above",
        threshold=95,
        severity="warning",
    )
    alerts.override_rule(ROOT, disk.id, org["berlin"], enabled=False)  # off for Berlin
    mem = next(r for r in alerts.list_rules(ROOT) if r.metric == "mem_percent")
    alerts.override_rule(ROOT, mem.id, fleet.agents["berlin-web-01"], threshold=70)
    alerts.create_rule(ROOT, org["paris"], condition="offline", severity="critical")
    [opened] = cpu_sample(fleet, "berlin-web-01", T0, 97.5).opened
    [alert] = alerts.list_alerts(ROOT).items
    clock.now = alert.opened_at.timestamp() + 600

    with qtbot.waitSignal(pane.loaded, timeout=WAIT_MS):
        pane.show_node("agent", fleet.agents["berlin-web-01"])
    dash = Qt.PenStyle.DashLine
    assert lines(pane, "cpu") == [(90.0, colour("critical").name(), dash)]
    assert lines(pane, "memory") == [(70.0, colour("warning").name(), dash)]  # its override
    assert lines(pane, "disk") == []  # switched off for Berlin
    assert lines(pane, "network") == lines(pane, "load") == []
    assert alert.id == opened
    assert spans(pane, "cpu") == [(alert.opened_at.timestamp(), clock.now)]
    assert all(spans(pane, key) == [] for key in ("memory", "disk", "network", "load"))
    tip = pane.agent_view.charts.charts["cpu"].alert_regions[0].toolTip()
    assert tip == "critical: cpu_percent above 90"

    with qtbot.waitSignal(pane.loaded, timeout=WAIT_MS):
        pane.show_node("agent", fleet.agents["paris-web-01"])
    assert lines(pane, "cpu") == [(90.0, colour("critical").name(), dash)]
    assert lines(pane, "memory") == [(80.0, colour("warning").name(), dash)]
    assert lines(pane, "disk") == [(95.0, colour("warning").name(), dash)]
    assert all(spans(pane, key) == [] for key in pane.agent_view.charts.charts)

    berlin_offline(fleet)  # offline and overdue warnings: they span every chart
    offline = next(a for a in alerts.list_alerts(ROOT).items if a.hostname == "berlin-db-01")
    clock.now = offline.opened_at.timestamp() + 60
    with qtbot.waitSignal(pane.loaded, timeout=WAIT_MS):
        pane.show_node("agent", fleet.agents["berlin-db-01"])
    for key in pane.agent_view.charts.charts:
        assert spans(pane, key) == [(offline.opened_at.timestamp(), clock.now)]
