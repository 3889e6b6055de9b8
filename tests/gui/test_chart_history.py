"""Agent charts over long ranges: the hourly tier with its min-max band and the resolution
named, seamless up to now across the rolled-up/raw boundary; raw samples for short ranges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtCore import QThreadPool

from argos_core.bootstrap import Services, bootstrap
from argos_core.housekeeping import housekeep
from argos_core.scope import Principal
from argos_desktop.detail.detail_pane import DetailPane
from tests.factories import add_agent, add_samples
from tests.gui.conftest import direct_session

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

HOUR = 3600
NOW = 1_780_000_000 // HOUR * HOUR + 1800
ROOT = Principal("root", "superadmin", source="tests")


@pytest.fixture
def history(fresh_database_url) -> Iterator[tuple[Services, str]]:
    """An agent with 20 days of 5-minute samples up to NOW, rolled up to six hours ago."""
    services = bootstrap(fresh_database_url)
    tenant = services.orgs.create_tenant(ROOT, "Northwind").org_id
    company = services.orgs.create_company(ROOT, tenant, "Acme").org_id
    branch = services.orgs.create_branch(ROOT, company, "Berlin").org_id
    uuid = add_agent(
        services.session_factory, branch, "db-01", last_seen=datetime.fromtimestamp(NOW, UTC)
    )
    add_samples(
        services.session_factory,
        uuid,
        [
            {
                "ts": ts,
                "cpu_percent": float(10 + (ts // 300) % 5),
                "net_rx_bytes": 600 * (ts - NOW + 30 * 86400),
            }
            for ts in range(NOW - 20 * 86400, NOW + 1, 300)
        ],
    )
    housekeep(services.engine, now=NOW - 6 * HOUR)
    yield services, uuid
    services.close()


@pytest.fixture
def pane(qtbot, history) -> Iterator[DetailPane]:
    services, _ = history
    pane = DetailPane(direct_session(services, ROOT), clock=lambda: NOW + 0.5)
    pane.resize(1200, 900)
    pane.show()
    qtbot.waitExposed(pane)
    yield pane
    qtbot.waitUntil(lambda: not pane.busy, timeout=20_000)
    QThreadPool.globalInstance().waitForDone()
    pane.close()
    pane.deleteLater()


def choose(qtbot, pane: DetailPane, label: str) -> None:
    charts = pane.agent_view.charts
    with qtbot.waitSignal(charts.dataShown, timeout=20_000):
        charts.preset_buttons[label].click()


def test_a_year_shows_rollups_with_a_band_up_to_now(qtbot, pane, history):
    _, uuid = history
    with qtbot.waitSignal(pane.loaded, timeout=20_000):
        pane.show_node("agent", uuid)
    choose(qtbot, pane, "1 y")
    charts = pane.agent_view.charts
    data = charts.displayed
    assert data.resolution == "hourly" and data.bucket_s % HOUR == 0
    assert "rollups" in charts.info_label.text() and "band" in charts.info_label.text()
    cpu = charts.charts["cpu"]
    assert cpu.band.isVisible()
    low, high = data.low["cpu_percent"], data.high["cpu_percent"]
    avg = data.values["cpu_percent"]
    assert np.all(low <= avg + 1e-6) and np.all(avg <= high + 1e-6)
    assert low.min() == 10.0 and high.max() == 14.0
    # the last bucket holds the hours not rolled up yet: the chart reaches now
    assert data.ts[-1] + data.bucket_s > NOW
    rates = data.values["net_rx_rate"]
    assert np.allclose(rates[np.isfinite(rates)], 600.0)


def test_a_day_shows_raw_samples_without_a_band(qtbot, pane, history):
    _, uuid = history
    with qtbot.waitSignal(pane.loaded, timeout=20_000):
        pane.show_node("agent", uuid)
    choose(qtbot, pane, "1 y")
    choose(qtbot, pane, "24 h")
    charts = pane.agent_view.charts
    assert charts.displayed.resolution == "raw"
    assert "rollups" not in charts.info_label.text()
    assert not charts.charts["cpu"].band.isVisible()
    assert len(charts.displayed) == 24 * 12
