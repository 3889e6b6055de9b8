"""The detail pane for an agent: inventory, charts of exactly the stored samples, presets,
live append, zoom kept across refreshes, CSV and PNG export."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from argos_core.bootstrap import Services
from argos_core.scope import Principal
from argos_core.services.agent_inventory import AgentInventory
from argos_desktop.charts.time_range import PRESETS, TimeRange
from argos_desktop.detail.agent_charts import AgentCharts
from argos_desktop.detail.detail_pane import DetailPane
from tests.factories import add_agent, add_samples
from tests.gui.conftest import direct_session

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

NOW = 1_780_000_000 // 3600 * 3600 + 1800  # half past an hour, in 2026
HISTORY_S = 2 * 86400


def sample(ts: int) -> dict:
    i = (ts - NOW) // 60
    return {
        "ts": ts,
        "cpu_percent": float(i % 97),
        "mem_percent": 40.0 + (i % 7),
        "disk_percent": 55.0,
        "net_rx_bytes": 1e6 + 6000.0 * i,  # 100 B/s
        "net_tx_bytes": 1e5 + 600.0 * i,  # 10 B/s
        "load_1m": 0.5,
        "uptime_s": 1000 + i * 60,
    }


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def agent(services: Services, superadmin: Principal) -> str:
    orgs = services.orgs
    tenant = orgs.create_tenant(superadmin, "Northwind").org_id
    company = orgs.create_company(superadmin, tenant, "Acme").org_id
    branch = orgs.create_branch(superadmin, company, "Berlin").org_id
    uuid = add_agent(
        services.session_factory,
        branch,
        "web-01",
        last_seen=datetime.fromtimestamp(NOW, UTC),
    )
    add_samples(
        services.session_factory,
        uuid,
        [sample(ts) for ts in range(NOW - HISTORY_S, NOW + 1, 60)],
    )
    return uuid


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW + 0.5)


@pytest.fixture
def pane(qtbot, services, superadmin, clock) -> Iterator[DetailPane]:
    pool = QThreadPool()
    pool.setMaxThreadCount(1)  # the rolled-back test connection serves one thread at a time
    pane = DetailPane(direct_session(services, superadmin), clock=clock, pool=pool)
    pane.resize(1200, 900)
    pane.show()
    qtbot.waitExposed(pane)
    yield pane
    # Let answers still due arrive before the pane (and the test's transaction) go away.
    qtbot.waitUntil(lambda: not pane.busy, timeout=20_000)
    pool.waitForDone()
    pane.close()
    pane.deleteLater()


def open_agent(qtbot, pane: DetailPane, uuid: str) -> None:
    with qtbot.waitSignal(pane.loaded, timeout=10_000):
        pane.show_node("agent", uuid)


def choose(qtbot, pane: DetailPane, label: str) -> None:
    charts = pane.agent_view.charts
    with qtbot.waitSignal(charts.dataShown, timeout=10_000):
        charts.preset_buttons[label].click()


def stored(services: Services, uuid: str, superadmin: Principal, start: int, end: int):
    """The samples the database holds for the range, raw (never bucketed)."""
    series = services.telemetry.telemetry_range(superadmin, uuid, start, end, max_points=20_000)
    assert series.bucket_s == 0
    return series


def test_agent_page_shows_inventory_and_all_five_charts(qtbot, pane, agent):
    open_agent(qtbot, pane, agent)
    view = pane.agent_view
    assert pane.stack.currentWidget() is view
    assert view.hostname_label.text() == "web-01"
    assert view.uuid.text() == agent
    tenant, company, branch = view.path_label.text().split(" / ")
    assert tenant.startswith("Northwind (") and company.startswith("Acme (")
    assert branch.startswith("Berlin (")
    assert set(view.charts.charts) == {"cpu", "memory", "disk", "network", "load"}
    assert view.charts.time_range.label == "24 h"
    assert all(chart.sample_count() > 0 for chart in view.charts.charts.values())


def test_one_hour_chart_shows_exactly_the_samples_stored_for_the_range(
    qtbot, pane, agent, services, superadmin, clock
):
    open_agent(qtbot, pane, agent)
    choose(qtbot, pane, "1 h")
    charts = pane.agent_view.charts
    start, end = charts.time_range.bounds(clock())
    expected = stored(services, agent, superadmin, start, end)
    assert len(expected) == 60
    for chart in charts.charts.values():
        assert chart.sample_count() == 60
    x, y = charts.charts["cpu"].curve("cpu_percent").getOriginalDataset()
    assert x.tolist() == [float(t) for t in expected.ts]
    assert y.tolist() == expected.metrics["cpu_percent"]
    rx = charts.charts["network"].curve("net_rx_rate").getOriginalDataset()[1]
    assert np.allclose(rx[1:], 100.0)


def test_presets_change_the_query_range_and_bound_the_points_by_plot_width(qtbot, pane, agent):
    open_agent(qtbot, pane, agent)
    charts = pane.agent_view.charts
    width = charts.plot_width()
    for label, span in PRESETS:
        choose(qtbot, pane, label)
        start, end, max_points = charts.last_query
        bucket = charts.data.bucket_s or 1
        assert start <= NOW + 1 - span < start + bucket
        assert NOW + 1 <= end < NOW + 1 + bucket
        assert max_points <= width
        assert len(charts.data) <= max_points
        (x0, x1), _ = charts.charts["load"].plot_item.getViewBox().viewRange()
        assert (x0, x1) == pytest.approx((NOW + 1 - span, NOW + 1))


def test_live_refresh_appends_new_samples_and_slides_the_window(
    qtbot, pane, agent, services, superadmin, clock
):
    open_agent(qtbot, pane, agent)
    choose(qtbot, pane, "1 h")
    charts = pane.agent_view.charts
    add_samples(services.session_factory, agent, [sample(NOW + 60 * k) for k in (1, 2, 3)])
    clock.now = NOW + 180.5
    with qtbot.waitSignal(charts.samplesAppended, timeout=10_000) as appended:
        pane.refresh()
    assert appended.args == [3]
    fresh = stored(services, agent, superadmin, NOW + 181 - 3600, NOW + 181)
    assert charts.data.ts.tolist() == fresh.ts
    assert charts.charts["cpu"].sample_count() == len(fresh) == 60


def test_live_refresh_of_averaged_ranges_matches_a_full_reload(qtbot, pane, agent, services, clock):
    open_agent(qtbot, pane, agent)  # 24 h, in 2-minute averages
    charts = pane.agent_view.charts
    assert charts.data.bucket_s > 60
    add_samples(services.session_factory, agent, [sample(NOW + 60 * k) for k in range(1, 6)])
    clock.now = NOW + 300.5
    with qtbot.waitSignal(charts.samplesAppended, timeout=10_000):
        pane.refresh()
    appended = charts.data
    bucket = appended.bucket_s
    last = int(appended.ts[-1])
    assert last == (NOW + 300) // bucket * bucket
    expected_cpu = np.mean([sample(t)["cpu_percent"] for t in range(last, NOW + 301, 60)])
    assert appended.values["cpu_percent"][-1] == pytest.approx(expected_cpu)
    with qtbot.waitSignal(charts.dataShown, timeout=10_000):
        charts.reload()
    reloaded = charts.data
    assert appended.ts[-20:].tolist() == reloaded.ts[-20:].tolist()
    for column in ("cpu_percent", "mem_percent", "net_rx_rate"):
        assert np.allclose(
            appended.values[column][-20:], reloaded.values[column][-20:], equal_nan=True
        )
    assert np.isnan(appended.values["net_rx_rate"][-1])  # the last bucket is still filling
    assert np.allclose(appended.values["net_rx_rate"][-20:-1], 100.0)


def test_user_zoom_survives_live_refresh(qtbot, pane, agent, services, clock):
    open_agent(qtbot, pane, agent)
    choose(qtbot, pane, "6 h")
    charts = pane.agent_view.charts
    vb = charts.charts["cpu"].plot_item.getViewBox()
    vb.setXRange(NOW - 3 * 3600, NOW - 2 * 3600, padding=0)
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])
    assert not charts.following
    add_samples(services.session_factory, agent, [sample(NOW + 60)])
    clock.now = NOW + 60.5
    with qtbot.waitSignal(charts.samplesAppended, timeout=10_000):
        pane.refresh()
    (x0, x1), _ = charts.charts["disk"].plot_item.getViewBox().viewRange()
    assert (x0, x1) == pytest.approx((NOW - 3 * 3600, NOW - 2 * 3600))
    charts.reset_zoom_button.click()
    assert charts.following
    (x0, x1), _ = vb.viewRange()
    assert x1 == pytest.approx(NOW + 61, abs=300)


def zoom(charts, start: float, end: float) -> None:
    """What a mouse wheel or drag does: set the range, then say the user did it."""
    vb = charts.charts["cpu"].plot_item.getViewBox()
    vb.setXRange(start, end, padding=0)
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])


def test_zooming_into_averages_fetches_the_samples_in_view(
    qtbot, pane, agent, services, superadmin
):
    open_agent(qtbot, pane, agent)  # 24 h in 2-minute averages
    charts = pane.agent_view.charts
    overview = charts.data
    assert overview.bucket_s >= 120
    zoom(charts, NOW - 3600, NOW - 1800)
    charts.detail_timer.stop()
    with qtbot.waitSignal(charts.detailShown, timeout=10_000):
        charts.update_detail()
    assert charts.data is overview
    assert charts.displayed.step() == 60
    expected = stored(services, agent, superadmin, NOW - 3600, NOW - 1799)
    assert charts.visible_data().ts.tolist() == expected.ts
    assert "zoomed in" in charts.info_label.text()
    charts.reset_zoom()
    assert charts.displayed is overview


def test_custom_range_queries_exactly_that_range_and_is_not_live(qtbot, pane, agent):
    open_agent(qtbot, pane, agent)
    charts = pane.agent_view.charts
    with qtbot.waitSignal(charts.dataShown, timeout=10_000):
        charts.set_time_range(TimeRange.custom(NOW - 30 * 3600, NOW - 29 * 3600))
    start, end, _ = charts.last_query
    assert start <= NOW - 30 * 3600 and end >= NOW - 29 * 3600 and end - start < 3700
    assert len(charts.data) == 60
    assert charts.custom_button.isChecked()
    pane.refresh()
    assert not charts._requests.is_pending("telemetry")


def test_csv_export_holds_the_shown_samples(qtbot, pane, agent, tmp_path):
    open_agent(qtbot, pane, agent)
    choose(qtbot, pane, "1 h")
    path = tmp_path / "web-01.csv"
    assert pane.agent_view.charts.export_csv(path) == 60
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 60
    assert int(rows[0]["unix_ts"]) == NOW - 3540
    assert float(rows[-1]["cpu_percent"]) == sample(NOW)["cpu_percent"]
    assert float(rows[-1]["net_rx_rate"]) == pytest.approx(100.0)
    assert rows[0]["time"].startswith(datetime.fromtimestamp(NOW - 3540).strftime("%Y-%m-%dT%H"))


def test_png_export_draws_the_charts_under_the_hostname_and_range(qtbot, pane, agent, tmp_path):
    open_agent(qtbot, pane, agent)
    choose(qtbot, pane, "1 h")
    charts = pane.agent_view.charts
    path = tmp_path / "charts.png"
    assert charts.export_png(path)
    image = QImage(str(path))
    assert image.width() > 400 and image.height() > charts.charts_widget.grab().height()
    start = datetime.fromtimestamp(charts.view_range()[0])
    assert charts.export_title() == (
        f"web-01 · {start:%Y-%m-%d %H:%M} to {datetime.fromtimestamp(charts.view_range()[1]):%H:%M}"
    )


def test_export_suggests_a_named_file_and_says_where_it_went(
    qtbot, pane, agent, tmp_path, monkeypatch
):
    monkeypatch.setattr(AgentCharts, "export_folder", "")  # restored afterwards
    open_agent(qtbot, pane, agent)
    choose(qtbot, pane, "1 h")
    charts = pane.agent_view.charts
    start = datetime.fromtimestamp(charts.view_range()[0])
    suggested = charts.suggested_path("csv")
    assert suggested.endswith(f"web-01-telemetry-{start:%Y%m%d-%H%M}.csv")
    assert os.path.isabs(suggested)  # a folder of the user's, not the working directory
    target = tmp_path / "out.csv"
    monkeypatch.setattr(  # the modal file dialog answers as a user would
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "CSV (*.csv)")
    )
    with qtbot.waitSignal(charts.exported, timeout=5_000):
        charts.csv_action.trigger()
    assert charts.info_label.text() == f"Saved 60 samples to {target}"
    assert charts.suggested_path("png").startswith(str(tmp_path))  # that folder next time


def test_crosshair_moves_on_every_chart_and_reads_out_values(qtbot, pane, agent):
    open_agent(qtbot, pane, agent)
    choose(qtbot, pane, "1 h")
    charts = pane.agent_view.charts
    charts.charts["memory"].hovered.emit(float(NOW - 600))
    assert all(c._crosshair.isVisible() for c in charts.charts.values())
    assert charts.cursor_label.text()
    expected = f"{sample(NOW - 600)['cpu_percent']:.1f} %"
    assert expected in charts.charts["cpu"].readout_text()
    charts.charts["memory"].hovered.emit(float("nan"))
    assert not charts.charts["cpu"]._crosshair.isVisible()


def test_agent_without_telemetry_says_so(qtbot, pane, services, superadmin):
    orgs = services.orgs
    tenant = orgs.create_tenant(superadmin, "Quiet").org_id
    branch = orgs.create_branch(
        superadmin, orgs.create_company(superadmin, tenant, "Q").org_id, "Q"
    )
    uuid = add_agent(services.session_factory, branch.org_id, "silent")
    open_agent(qtbot, pane, uuid)
    charts = pane.agent_view.charts
    assert len(charts.data) == 0
    assert "No telemetry" in charts.info_label.text()
    assert not charts.csv_action.isEnabled()


def test_agent_page_says_when_and_from_where_the_host_enrolled_again(
    qtbot, pane, services, superadmin
):
    tenant = services.orgs.create_tenant(superadmin, "Contoso").org_id
    company = services.orgs.create_company(superadmin, tenant, "Fabrikam").org_id
    branch = services.orgs.create_branch(superadmin, company, "Oslo").org_id
    key = services.enrollment.issue_key(superadmin, branch).key
    enroll = services.enrollment.enroll
    once = AgentInventory(hostname="db-01", machine_id="machine-db-01")
    twice = AgentInventory(hostname="db-02", machine_id="machine-db-02")
    first = enroll(branch, key, once, source="ingest:10.0.0.5").agent_uuid
    second = enroll(branch, key, twice, source="ingest:10.0.0.6").agent_uuid
    enroll(branch, key, twice, source="ingest:203.0.113.9")

    open_agent(qtbot, pane, first)
    assert "again" not in pane.agent_view.values["enrolled"].text()
    open_agent(qtbot, pane, second)
    enrolled = pane.agent_view.values["enrolled"]
    assert "again" in enrolled.text() and "from 203.0.113.9" in enrolled.text()
    assert "203.0.113.9" in enrolled.toolTip()
