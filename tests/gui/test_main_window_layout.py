"""The main window at small and common screen sizes, styled as the console runs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from argos_desktop.detail.detail_pane import DetailPane
from argos_desktop.main_window import MainWindow
from argos_desktop.theme import ThemeManager
from tests.gui.conftest import Fleet, session_for

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
SCREENS = {"1024x700": QRect(0, 0, 1024, 700), "1366x768": QRect(0, 0, 1366, 768)}


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[None]:
    """The console's style sheet and palette, as ``argos`` applies them."""
    ThemeManager(qapp, forced="light")
    yield
    qapp.setStyleSheet("")
    qapp.setPalette(QPalette())


def first_start(qtbot, fleet: Fleet, tmp_path, screen: QRect) -> MainWindow:
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        session_for(fleet), settings, refresh_timer=QTimer(), detail_factory=DetailPane
    )
    qtbot.addWidget(window)
    window.fit_to_screen(screen)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.fleet.model.pageLoaded, timeout=10_000):
        window.start()
    return window


@pytest.mark.parametrize("screen", list(SCREENS))
def test_search_stays_in_the_toolbar_and_names_fit_the_tree(
    qtbot, shared_fleet: Fleet, tmp_path, styled, screen: str
):
    window = first_start(qtbot, shared_fleet, tmp_path, SCREENS[screen])
    assert window.width() <= SCREENS[screen].width()
    search = window.search_box
    assert search.isVisible() and search.width() >= 220
    left = search.mapTo(window, QPoint(0, 0)).x()
    assert left + search.width() <= window.width()

    f = shared_fleet.org
    fleet = window.fleet
    with qtbot.waitSignal(fleet.model.revealed, timeout=10_000):
        fleet.reveal([f["acme"], f["alpha"], f["berlin"]], shared_fleet.agents["berlin-web-01"])
    detail = window.detail
    qtbot.waitUntil(
        lambda: (
            detail.stack.currentWidget() is detail.agent_view
            and detail.agent_view.hostname_label.text() == "berlin-web-01"
        ),
        timeout=10_000,
    )
    agent = fleet.tree.currentIndex()
    shown = fleet.tree.visualRect(agent).width() - fleet.tree.iconSize().width()
    assert shown >= fleet.tree.fontMetrics().horizontalAdvance("berlin-web-01  ")
    inventory = detail.agent_view.values
    assert not [key for key in ("last_seen", "enrolled", "interval") if inventory[key].is_elided()]

    charts = detail.agent_view.charts
    charts.charts["cpu"].hovered.emit(time.time() - 600)
    read_out = charts.cursor_label
    wanted = read_out.fontMetrics().horizontalAdvance(read_out.text())
    qtbot.waitUntil(lambda: read_out.width() >= wanted, timeout=5_000)  # the time, whole

    status = [window.connection_label, window.user_label]
    assert all(label.text() in label.toolTip() for label in status if label.is_elided())
    assert "root" in window.user_label.text() and "all tenants" in window.user_label.text()

    fleet.tree.setFocus()
    qtbot.keyClick(fleet.tree, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(fleet.searchFinished, timeout=10_000):
        qtbot.keyClicks(QApplication.focusWidget(), "oslo")
    assert search.text() == "oslo"
