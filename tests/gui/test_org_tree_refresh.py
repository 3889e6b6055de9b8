"""Live refresh on a big tree: only the levels shown, one level at a time, never ahead of
the page the user is waiting for."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QModelIndex

from argos_desktop.fleet_panel import FleetPanel
from argos_desktop.org_tree_model import STATUS_ROLE, OrgTreeModel
from argos_desktop.workers import workers_in_flight
from tests.gui.conftest import Fleet, session_for, settle
from tests.gui.test_org_tree_model import child, load, open_path

ROOT = QModelIndex()
# The offscreen platform says so for every shown top-level widget.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def expand(qtbot, panel: FleetPanel, index: QModelIndex) -> None:
    with qtbot.waitSignal(panel.model.pageLoaded, timeout=10_000):
        panel.tree.expand(index)


def parents_read(session) -> list[str | None]:
    return [args[0] for name, args, _kw in session.backend.args if name == "list_children"]


def test_refresh_reads_shown_levels_and_collapsed_ones_when_expanded(qtbot, fleet: Fleet):
    session = session_for(fleet)
    panel = FleetPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    model, f = panel.model, fleet.org
    load(qtbot, model)
    acme = child(model, ROOT, f["acme"])
    expand(qtbot, panel, acme)
    expand(qtbot, panel, child(model, acme, f["alpha"]))
    zeta = child(model, ROOT, f["zeta"])
    expand(qtbot, panel, zeta)
    zeta_co = child(model, zeta, f["zeta_co"])
    assert zeta_co.data(STATUS_ROLE) == "online"
    panel.tree.collapse(zeta)
    fleet.set_seen("oslo-node-03", None)

    session.backend.args.clear()
    with qtbot.waitSignal(model.refreshed, timeout=10_000):
        assert model.refresh()
    assert parents_read(session) == [None, f["acme"], f["alpha"]]
    assert zeta_co.data(STATUS_ROLE) == "online"  # hidden, not re-read yet

    session.backend.args.clear()
    panel.tree.expand(zeta)
    qtbot.waitUntil(lambda: zeta_co.data(STATUS_ROLE) == "never_seen", timeout=10_000)
    assert parents_read(session) == [f["zeta"]]
    panel.tree.collapse(zeta)
    panel.tree.expand(zeta)  # fresh since: nothing to re-read
    settle(panel.tree)
    assert workers_in_flight() == 0, "a read was started"
    assert parents_read(session) == [f["zeta"]]


class _Gate:
    """Holds ``list_children`` of one parent until released, like a slow database."""

    def __init__(self, inner, parent_key: str) -> None:
        self._inner, self._key = inner, parent_key
        self.entered, self.release = threading.Event(), threading.Event()

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def list_children(self, parent_org_id=None, *args, **kwargs):
        if parent_org_id == self._key:
            self.entered.set()
            self.release.wait(10)
        return self._inner.list_children(parent_org_id, *args, **kwargs)


def test_refresh_waits_until_the_page_the_user_asked_for_arrived(qtbot, fleet: Fleet):
    session = session_for(fleet)
    model = OrgTreeModel(session)
    f = fleet.org
    open_path(qtbot, model, f["acme"], f["alpha"])
    gate = _Gate(session.backend, f["zeta"])
    session.backend = gate
    zeta = child(model, ROOT, f["zeta"])
    model.fetchMore(zeta)
    assert gate.entered.wait(10)

    counted = gate._inner
    counted.args.clear()
    assert model.refresh()
    assert workers_in_flight() == 1, "the refresh went ahead of the user's page"

    with qtbot.waitSignal(model.refreshed, timeout=10_000):
        gate.release.set()
    # The user's read is counted when it returns; the refresh's reads all come after it.
    assert parents_read(session) == [f["zeta"], None, f["acme"]]
    assert model.rowCount(zeta) == 1
