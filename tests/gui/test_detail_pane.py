"""The detail pane for tenants, companies and branches: summary, agents table, scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt, QThreadPool
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from argos_core.bootstrap import Services
from argos_core.models import Branch
from argos_core.scope import Principal
from argos_core.services.dto import AgentSummary, Page
from argos_core.status import AgentStatus
from argos_desktop.detail.agent_table_model import (
    AGENT_UUID_ROLE,
    BRANCH,
    COLUMNS,
    HOSTNAME,
    STATUS,
    AgentTableModel,
)
from argos_desktop.detail.detail_pane import DetailPane
from tests.factories import add_agent
from tests.gui.conftest import direct_session

# Qt's offscreen platform says so whenever a top-level window is shown; it is harmless.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@dataclass
class Fleet:
    services: Services
    tenant: str
    company: str
    branch: str
    other_branch: str
    agents: dict[str, str]  # hostname -> uuid


@pytest.fixture
def fleet(services: Services, superadmin: Principal) -> Fleet:
    orgs = services.orgs
    tenant = orgs.create_tenant(superadmin, "Northwind").org_id
    company = orgs.create_company(superadmin, tenant, "Acme").org_id
    branch = orgs.create_branch(superadmin, company, "Berlin").org_id
    other = orgs.create_branch(superadmin, company, "Paris").org_id
    now = datetime.now(UTC)
    sf = services.session_factory
    agents = {
        "web-1": add_agent(sf, branch, "web-1", last_seen=now),
        "db-1": add_agent(sf, branch, "db-1", last_seen=now - timedelta(minutes=10)),
        "cache-1": add_agent(sf, branch, "cache-1"),
        "mail-1": add_agent(sf, other, "mail-1", last_seen=now),
        "app-1": add_agent(sf, other, "app-1", revoked=True),
    }
    return Fleet(services, tenant, company, branch, other, agents)


def make_pane(qtbot, services: Services, principal: Principal) -> Iterator[DetailPane]:
    # The test database is one connection inside a rolled-back transaction: one worker
    # thread at a time may use it.
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    pane = DetailPane(direct_session(services, principal), pool=pool)
    pane.resize(1100, 800)
    pane.show()
    qtbot.waitExposed(pane)
    yield pane
    # Let answers still due arrive before the pane (and the test's transaction) go away.
    qtbot.waitUntil(lambda: not pane.busy, timeout=20_000)
    pool.waitForDone()
    pane.close()
    pane.deleteLater()


@pytest.fixture
def pane(qtbot, fleet: Fleet, superadmin: Principal) -> Iterator[DetailPane]:
    yield from make_pane(qtbot, fleet.services, superadmin)


def show(qtbot, pane: DetailPane, kind: str, key: str) -> None:
    with qtbot.waitSignal(pane.loaded, timeout=10_000):
        pane.show_node(kind, key)


def hostnames(model) -> list[str]:
    return [model.index(r, HOSTNAME).data() for r in range(model.rowCount())]


def test_tenant_shows_name_org_id_counts_and_every_agent_under_it(qtbot, pane, fleet):
    show(qtbot, pane, "tenant", fleet.tenant)
    view = pane.org_view
    assert pane.stack.currentWidget() is view
    assert view.name_label.text() == "Northwind"
    assert view.kind_label.text() == "TENANT"
    assert view.org_id.text() == fleet.tenant
    assert view.summary.count_text(AgentStatus.ONLINE) == "2"
    assert view.summary.count_text(AgentStatus.OFFLINE) == "1"
    assert view.summary.count_text(AgentStatus.NEVER_SEEN) == "1"
    assert view.summary.count_text(AgentStatus.REVOKED) == "1"
    assert sorted(hostnames(view.model)) == sorted(fleet.agents)
    assert view.model.total == 5


def test_copy_button_puts_the_org_id_on_the_clipboard(qtbot, pane, fleet):
    show(qtbot, pane, "branch", fleet.branch)
    assert f"in Acme ({fleet.company})" in pane.org_view.facts_label.text()
    pane.org_view.org_id.button.click()
    assert QGuiApplication.clipboard().text() == fleet.branch


def test_branch_lists_only_its_agents_with_status_colours(qtbot, pane, fleet):
    show(qtbot, pane, "branch", fleet.branch)
    model = pane.org_view.model
    assert hostnames(model) == ["cache-1", "db-1", "web-1"]
    statuses = [model.index(r, STATUS).data() for r in range(3)]
    assert statuses == ["Never seen", "Offline", "Online"]
    colours = {model.index(r, STATUS).data(Qt.ItemDataRole.ForegroundRole).name() for r in range(3)}
    assert len(colours) == 3
    assert model.index(2, 0).data(AGENT_UUID_ROLE) == fleet.agents["web-1"]


def test_agents_table_model_passes_the_model_tester(qtbot, qtmodeltester, pane, fleet):
    qtmodeltester.check(pane.org_view.model)  # before it loads
    show(qtbot, pane, "tenant", fleet.tenant)
    assert pane.org_view.model.rowCount() > 0


def test_sorting_happens_in_the_database(qtbot, pane, fleet):
    show(qtbot, pane, "tenant", fleet.tenant)
    view = pane.org_view
    header = view.table.horizontalHeader()
    with qtbot.waitSignal(view.model.pageLoaded, timeout=10_000):
        header.setSortIndicator(HOSTNAME, header.sortIndicatorOrder().DescendingOrder)
    assert view.model.sort_key == "hostname" and view.model.descending
    assert hostnames(view.model) == sorted(fleet.agents, reverse=True)
    with qtbot.waitSignal(view.model.pageLoaded, timeout=10_000):
        header.setSortIndicator(STATUS, header.sortIndicatorOrder().AscendingOrder)
    assert view.model.sort_key == "status"


def test_columns_the_database_cannot_sort_keep_the_previous_order(qtbot, pane, fleet):
    show(qtbot, pane, "tenant", fleet.tenant)
    view = pane.org_view
    branch_column = next(i for i, c in enumerate(COLUMNS) if c.sort_key is None)
    before = hostnames(view.model)
    view.table.horizontalHeader().setSortIndicator(
        branch_column, view.table.horizontalHeader().sortIndicatorOrder()
    )
    assert view.table.horizontalHeader().sortIndicatorSection() == HOSTNAME
    assert hostnames(view.model) == before


def test_status_filter_asks_the_service_for_that_status_only(qtbot, pane, fleet):
    show(qtbot, pane, "tenant", fleet.tenant)
    view = pane.org_view
    with qtbot.waitSignal(view.model.pageLoaded, timeout=10_000):
        view.status_filter.setCurrentIndex(view.status_filter.findData(AgentStatus.ONLINE))
    assert sorted(hostnames(view.model)) == ["mail-1", "web-1"]


def test_a_status_tile_explains_its_word_and_a_click_lists_only_those_agents(qtbot, pane, fleet):
    show(qtbot, pane, "tenant", fleet.tenant)
    view = pane.org_view
    tile = view.summary.tiles[AgentStatus.ONLINE]
    assert "Reported within two report intervals plus 15 s" in tile.toolTip()
    assert "30 min" in view.summary.tiles[AgentStatus.OVERDUE].toolTip()
    with qtbot.waitSignal(view.model.pageLoaded, timeout=10_000):
        qtbot.mouseClick(tile.count, Qt.MouseButton.LeftButton)  # on the number, as people do
    assert sorted(hostnames(view.model)) == ["mail-1", "web-1"]
    status = view.model.index(0, STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert status.startswith("Reported within")
    with qtbot.waitSignal(view.model.pageLoaded, timeout=10_000):
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)  # again: every agent
    assert view.model.total == 5


def test_double_clicking_an_agent_row_activates_that_agent(qtbot, pane, fleet):
    show(qtbot, pane, "branch", fleet.branch)
    with qtbot.waitSignal(pane.agentActivated) as signal:
        pane.org_view.table.doubleClicked.emit(pane.org_view.model.index(1, HOSTNAME))
    assert signal.args == [fleet.agents["db-1"]]


def test_an_agent_rows_context_menu_opens_it_and_copies_what_identifies_it(qtbot, pane, fleet):
    show(qtbot, pane, "branch", fleet.branch)
    view = pane.org_view
    row = view.model.row_of(fleet.agents["db-1"])
    menu = view.context_menu(row)
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert list(actions) == ["Open", "Copy hostname", "Copy agent id", "Copy IP addresses"]
    actions["Copy hostname"].trigger()
    assert QGuiApplication.clipboard().text() == "db-1"
    actions["Copy agent id"].trigger()
    assert QGuiApplication.clipboard().text() == fleet.agents["db-1"]
    assert not actions["Copy IP addresses"].isEnabled()  # it reported none
    with qtbot.waitSignal(pane.agentActivated) as opened:
        actions["Open"].trigger()
    assert opened.args == [fleet.agents["db-1"]]


def test_enter_on_the_current_row_activates_that_agent(qtbot, pane, fleet):
    show(qtbot, pane, "branch", fleet.branch)
    table = pane.org_view.table
    table.setCurrentIndex(pane.org_view.model.index(2, HOSTNAME))
    with qtbot.waitSignal(pane.agentActivated) as signal:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert signal.args == [fleet.agents["web-1"]]


def test_branch_column_is_hidden_for_a_branch_and_shown_above(qtbot, pane, fleet):
    show(qtbot, pane, "branch", fleet.branch)
    assert pane.org_view.table.isColumnHidden(BRANCH)
    show(qtbot, pane, "company", fleet.company)
    assert not pane.org_view.table.isColumnHidden(BRANCH)
    model = pane.org_view.model
    branches = {
        model.index(r, HOSTNAME).data(): model.index(r, BRANCH).data()
        for r in range(model.rowCount())
    }
    assert branches == {
        "app-1": "Paris",
        "cache-1": "Berlin",
        "db-1": "Berlin",
        "mail-1": "Paris",
        "web-1": "Berlin",
    }
    tip = model.index(0, BRANCH).data(Qt.ItemDataRole.ToolTipRole)
    assert fleet.other_branch in tip or fleet.branch in tip

    show(qtbot, pane, "tenant", fleet.tenant)  # branch names may repeat across companies
    assert model.headerData(BRANCH, Qt.Orientation.Horizontal) == "Company / Branch"
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=10_000)
    assert {model.index(r, BRANCH).data() for r in range(5)} == {"Acme / Paris", "Acme / Berlin"}


def test_refresh_updates_rows_in_place_and_keeps_the_selection(qtbot, pane, fleet):
    show(qtbot, pane, "branch", fleet.branch)
    view = pane.org_view
    view.select_uuid(fleet.agents["db-1"])
    resets = []
    view.model.modelReset.connect(lambda: resets.append(1))
    add_agent(fleet.services.session_factory, fleet.branch, "zz-new")
    with qtbot.waitSignal(pane.org_view.model.pageLoaded, timeout=10_000):
        pane.refresh()
    qtbot.waitUntil(lambda: not pane.busy, timeout=20_000)
    assert resets == []
    assert hostnames(view.model) == ["cache-1", "db-1", "web-1", "zz-new"]
    assert view.selected_uuid() == fleet.agents["db-1"]
    assert view.summary.count_text(AgentStatus.NEVER_SEEN) == "2"


def test_a_node_the_tree_read_is_shown_without_asking_for_it_again(qtbot, pane, fleet):
    show(qtbot, pane, "company", fleet.company)
    backend = pane._session.backend
    asked: list[str] = []
    get_node = backend.get_node
    backend.get_node = lambda org_id: asked.append(org_id) or get_node(org_id)
    add_agent(fleet.services.session_factory, fleet.branch, "zz-new")
    with qtbot.waitSignal(pane.org_view.model.pageLoaded, timeout=10_000):
        pane.refresh(node_follows=True)
    qtbot.waitUntil(lambda: not pane.busy, timeout=20_000)
    assert asked == []
    assert pane.org_view.summary.count_text(AgentStatus.NEVER_SEEN) == "1"
    root = Principal("root", "superadmin", source="tests")
    pane.node_arrived(fleet.services.orgs.get_node(root, fleet.branch))  # not the one shown
    pane.node_arrived(fleet.services.orgs.get_node(root, fleet.company))
    assert pane.org_view.name_label.text() == "Acme"
    assert pane.org_view.summary.count_text(AgentStatus.NEVER_SEEN) == "2"
    with qtbot.waitSignal(pane.org_view.model.pageLoaded, timeout=10_000):
        pane.refresh()
    qtbot.waitUntil(lambda: not pane.busy, timeout=20_000)
    assert asked == [fleet.company]


def test_clear_shows_the_empty_page(qtbot, pane, fleet):
    show(qtbot, pane, "tenant", fleet.tenant)
    pane.clear()
    assert pane.current is None
    assert pane.stack.currentWidget() is pane.placeholder


def test_unknown_org_id_shows_a_message_not_a_crash(qtbot, pane):
    show(qtbot, pane, "company", "ZZZZZZ")
    assert "ZZZZZZ" in pane.message()


def test_branch_admin_cannot_open_an_agent_outside_their_branch(qtbot, fleet):
    with fleet.services.session_factory() as session:
        branch = session.query(Branch).filter_by(org_id=fleet.branch).one()
        ids = (branch.tenant_id, branch.company_id, branch.id)
    admin = Principal("bea", "admin", *ids, scope_org_id=fleet.branch, source="tests")
    for pane in make_pane(qtbot, fleet.services, admin):
        show(qtbot, pane, "agent", fleet.agents["web-1"])
        assert pane.stack.currentWidget() is pane.agent_view
        show(qtbot, pane, "agent", fleet.agents["mail-1"])
        assert pane.stack.currentWidget() is pane.message_page
        assert "Cannot show this agent" in pane.message()
        show(qtbot, pane, "branch", fleet.other_branch)
        assert "Cannot show this" in pane.message()
        QApplication.processEvents()


# --- the model on its own: lazy paging with a fake service -----------------------------------


def fake_agents(n: int) -> list[AgentSummary]:
    enrolled = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        AgentSummary(f"u{i}", f"host-{i:03d}", "BR1", "Linux", "1.0", [], AgentStatus.ONLINE,
                     enrolled, enrolled, None)
        for i in range(n)
    ]  # fmt: skip


def test_model_loads_pages_only_when_the_view_asks_for_more(qtmodeltester):
    agents = fake_agents(35)
    calls: list[tuple[int, int]] = []

    def loader(offset: int, limit: int, sort_by: str, descending: bool) -> Page[AgentSummary]:
        calls.append((offset, limit))
        ordered = sorted(agents, key=lambda a: a.hostname, reverse=descending)
        return Page(ordered[offset : offset + limit], len(ordered), offset)

    model = AgentTableModel(lambda fn, ok, fail: ok(fn()), page_size=10)
    model.set_loader(loader)
    assert (model.rowCount(), calls) == (10, [(0, 10)])
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 20 and calls[-1] == (10, 10)
    # Attached only now: the tester itself fetches more, which would change the calls above.
    qtmodeltester.check(model)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 35 and len(calls) == 4
    model.sort(HOSTNAME, Qt.SortOrder.DescendingOrder)
    assert model.index(0, HOSTNAME).data() == "host-034"
    assert model.rowCount() == 10
