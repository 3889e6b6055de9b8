"""The fleet tree's view shows pages as they arrive, expanded, without extra signals."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex

from argos_desktop import theme
from argos_desktop.org_tree_model import OrgTreeModel
from argos_desktop.org_tree_view import OrgTreeView
from argos_desktop.workers import workers_in_flight
from tests.gui.conftest import Fleet, session_for, settle
from tests.gui.test_org_tree_model import child, load

ROOT = QModelIndex()
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_each_page_shows_under_its_expanded_node_read_once(qtbot, shared_fleet: Fleet):
    session = session_for(shared_fleet)
    model = OrgTreeModel(session, page_size=10)
    view = OrgTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(300, 150)  # the pages overflow it: the view asks for no next page itself
    view.show()
    qtbot.waitExposed(view)
    load(qtbot, model)
    signals: list[str] = []
    view.expanded.connect(lambda _i: signals.append("expanded"))
    view.collapsed.connect(lambda _i: signals.append("collapsed"))
    f = shared_fleet.org

    path = ROOT
    for key in (f["zeta"], f["zeta_co"], f["oslo"]):
        path = child(model, path, key)
        with qtbot.waitSignal(model.pageLoaded, timeout=10_000):
            view.expand(path)
        assert view.isExpanded(path)
        first = model.index(0, 0, path)
        assert first.isValid() and view.visualRect(first).isValid()
    settle(view)
    assert workers_in_flight() == 0, "the view asked for a next page"
    assert signals == ["expanded"] * 3
    read = [args[0] for name, args, _kw in session.backend.args if name == "list_children"]
    assert read == [None, f["zeta"], f["zeta_co"]]

    oslo = path
    assert model.rowCount(oslo) == 10
    load(qtbot, model, oslo)  # a next page goes the usual way
    assert model.rowCount(oslo) == 20
    assert view.isExpanded(oslo)
    assert view.visualRect(model.index(19, 0, oslo)).isValid()
    assert signals == ["expanded"] * 3


def test_a_selected_rows_status_dot_keeps_its_status_colour(qtbot, shared_fleet: Fleet):
    model = OrgTreeModel(session_for(shared_fleet))
    view = OrgTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    load(qtbot, model)
    f = shared_fleet.org
    path = ROOT
    for key in (f["acme"], f["alpha"], f["berlin"]):
        path = child(model, path, key)
        with qtbot.waitSignal(model.pageLoaded, timeout=10_000):
            view.expand(path)
    overdue = model.index_for_key(shared_fleet.agents["berlin-db-02"]).siblingAtColumn(2)
    view.setCurrentIndex(overdue)
    assert view.selectionModel().isSelected(overdue)
    cell = view.visualRect(overdue)
    image = view.viewport().grab().toImage()
    red = theme.current().status_color("overdue")
    colours = [
        image.pixelColor(x, y)
        for x in range(cell.left(), cell.left() + cell.height())
        for y in range(cell.top(), cell.bottom())
    ]
    assert any(
        abs(c.red() - red.red()) + abs(c.green() - red.green()) + abs(c.blue() - red.blue()) < 12
        for c in colours
    )
