"""The lazy org tree: laziness, paging, scope, statuses, refresh in place."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from argos_core.scope import Principal
from argos_desktop import theme
from argos_desktop.org_tree_model import (
    KEY_ROLE,
    KIND_ROLE,
    STATUS_COLUMN,
    STATUS_ROLE,
    OrgTreeModel,
)
from argos_desktop.workers import workers_in_flight
from tests.gui.conftest import OSLO_AGENTS, Fleet, session_for

ROOT = QModelIndex()


def load(qtbot, model: OrgTreeModel, parent: QModelIndex = ROOT) -> None:
    with qtbot.waitSignal(model.pageLoaded, timeout=10_000):
        model.fetchMore(parent)


def child(model: OrgTreeModel, parent: QModelIndex, key: str) -> QModelIndex:
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if index.data(KEY_ROLE) == key:
            return index
    raise AssertionError(f"{key} not among the loaded children")


def open_path(qtbot, model: OrgTreeModel, *keys: str) -> QModelIndex:
    index = ROOT
    for key in keys:
        if model.canFetchMore(index):
            load(qtbot, model, index)
        else:  # loaded, or a load under way (Qt's model tester starts some itself)
            qtbot.waitUntil(lambda parent=index, key=key: _has_child(model, parent, key))
        index = child(model, index, key)
    return index


def _has_child(model: OrgTreeModel, parent: QModelIndex, key: str) -> bool:
    rows = range(model.rowCount(parent))
    return any(model.index(r, 0, parent).data(KEY_ROLE) == key for r in rows)


def test_tree_model_passes_the_qt_model_tester(qtbot, qtmodeltester, shared_fleet: Fleet):
    model = OrgTreeModel(session_for(shared_fleet), page_size=10)
    # Attached first, so every load, page and refresh below is checked as it happens. The
    # tester fetches the top level itself (and what it finds under it) as a view would.
    qtmodeltester.check(model)
    qtbot.waitUntil(lambda: workers_in_flight() == 0 and not model.canFetchMore(ROOT))
    f = shared_fleet.org
    open_path(qtbot, model, f["acme"], f["alpha"], f["berlin"])
    oslo = open_path(qtbot, model, f["zeta"], f["zeta_co"], f["oslo"])
    qtbot.waitUntil(lambda: workers_in_flight() == 0)
    while model.canFetchMore(oslo):
        load(qtbot, model, oslo)
    assert model.rowCount(oslo) == OSLO_AGENTS
    with qtbot.waitSignal(model.refreshed, timeout=10_000):
        assert model.refresh()
    assert model.rowCount(oslo) == OSLO_AGENTS


def test_top_level_shows_tenants_without_loading_their_children(qtbot, shared_fleet: Fleet):
    session = session_for(shared_fleet)
    model = OrgTreeModel(session)
    assert model.rowCount() == 0
    assert model.hasChildren(ROOT)
    load(qtbot, model)
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert names == ["Acme MSP", "Empty Tenant", "Zeta Hosting"]
    acme = child(model, ROOT, shared_fleet.org["acme"])
    empty = model.index(1, 0)
    assert model.hasChildren(acme) and model.rowCount(acme) == 0
    assert not model.hasChildren(empty)
    assert session.backend.calls == {"list_children": 1}


def test_children_load_a_page_at_a_time_and_only_when_asked(qtbot, shared_fleet: Fleet):
    session = session_for(shared_fleet)
    model = OrgTreeModel(session, page_size=10)
    f = shared_fleet.org
    oslo = open_path(qtbot, model, f["zeta"], f["zeta_co"], f["oslo"])
    assert "list_agents" not in session.backend.calls
    rows = []
    while model.canFetchMore(oslo):
        load(qtbot, model, oslo)
        rows.append(model.rowCount(oslo))
    assert rows == [10, 20, OSLO_AGENTS]
    assert session.backend.calls == {"list_agents": 3, "list_children": 3}
    offsets = [kw["offset"] for name, _a, kw in session.backend.args if name == "list_agents"]
    assert offsets == [0, 10, 20]


def test_branch_admin_tree_holds_exactly_their_branch(qtbot, shared_fleet: Fleet):
    f = shared_fleet.org
    if not _user_exists(shared_fleet, "berlin-admin"):
        shared_fleet.services.users.create_user(
            Principal("root", "superadmin", source="tests"),
            username="berlin-admin",
            password="berlin-pass-2026",
            role="admin",
            scope_org_id=f["berlin"],
        )
    principal = shared_fleet.services.users.authenticate("berlin-admin", "berlin-pass-2026")
    model = OrgTreeModel(session_for(shared_fleet, principal))
    load(qtbot, model)
    assert model.rowCount() == 1
    branch = model.index(0, 0)
    assert (branch.data(KIND_ROLE), branch.data(KEY_ROLE)) == ("branch", f["berlin"])
    assert not model.canFetchMore(ROOT)
    load(qtbot, model, branch)
    hosts = sorted(model.index(r, 0, branch).data() for r in range(model.rowCount(branch)))
    assert hosts == sorted(h for h in shared_fleet.agents if h.startswith("berlin-"))


def _user_exists(fleet: Fleet, username: str) -> bool:
    root = Principal("root", "superadmin", source="tests")
    return any(u.username == username for u in fleet.services.users.list_users(root).items)


def test_nodes_show_counts_and_the_colour_of_their_worst_agent(qtbot, shared_fleet: Fleet):
    model = OrgTreeModel(session_for(shared_fleet))
    f = shared_fleet.org
    berlin = open_path(qtbot, model, f["acme"], f["alpha"], f["berlin"])
    alpha = berlin.parent()
    berlin_status = berlin.siblingAtColumn(STATUS_COLUMN)
    assert berlin_status.data() == "2/6 online"
    assert berlin.data(STATUS_ROLE) == "overdue"
    overdue = theme.current().status_color("overdue")
    assert berlin_status.data(Qt.ItemDataRole.ForegroundRole) == overdue
    assert alpha.siblingAtColumn(STATUS_COLUMN).data() == "3/7 online"
    assert alpha.data(STATUS_ROLE) == "overdue"
    paris = child(model, alpha, f["paris"])
    assert paris.data(STATUS_ROLE) == "online"
    assert paris.siblingAtColumn(STATUS_COLUMN).data(Qt.ItemDataRole.ForegroundRole) is None
    lyon = open_path(qtbot, model, f["acme"], f["beta"], f["lyon"])
    assert lyon.siblingAtColumn(STATUS_COLUMN).data() == "No agents"
    assert lyon.data(STATUS_ROLE) is None
    load(qtbot, model, berlin)
    statuses = {
        model.index(r, 0, berlin).data(): model.index(r, 0, berlin).data(STATUS_ROLE)
        for r in range(model.rowCount(berlin))
    }
    from tests.gui.conftest import BERLIN_AGENTS

    assert statuses == BERLIN_AGENTS
    assert model.index(0, 0, berlin).data(Qt.ItemDataRole.DecorationRole) is not None


def test_refresh_updates_rows_in_place(qtbot, qtmodeltester, fleet: Fleet):
    model = OrgTreeModel(session_for(fleet))
    f = fleet.org
    berlin = open_path(qtbot, model, f["acme"], f["alpha"], f["berlin"])
    load(qtbot, model, berlin)
    db = child(model, berlin, fleet.agents["berlin-db-02"])
    assert db.data(STATUS_ROLE) == "overdue"
    qtmodeltester.check(model)
    from argos_core.models import utcnow

    fleet.set_seen("berlin-db-02", utcnow())
    removed: list = []
    model.rowsRemoved.connect(lambda *a: removed.append(a))
    with qtbot.waitSignal(model.refreshed, timeout=10_000):
        assert model.refresh()
    assert removed == []
    assert db.isValid() and db.data(STATUS_ROLE) == "online"
    assert berlin.siblingAtColumn(STATUS_COLUMN).data() == "3/6 online"
    assert berlin.data(STATUS_ROLE) == "offline"


def test_refresh_adds_new_agents_and_drops_deleted_nodes(qtbot, fleet: Fleet):
    from tests.factories import add_agent

    model = OrgTreeModel(session_for(fleet))
    f = fleet.org
    alpha = open_path(qtbot, model, f["acme"], f["alpha"])
    paris = open_path(qtbot, model, f["acme"], f["alpha"], f["paris"])
    load(qtbot, model, paris)
    assert model.rowCount(paris) == 1
    add_agent(fleet.services.session_factory, f["paris"], "paris-web-02")
    root = Principal("root", "superadmin", source="tests")
    lyon_company = fleet.services.orgs.create_branch(root, f["alpha"], "Rome").org_id
    with qtbot.waitSignal(model.refreshed, timeout=10_000):
        model.refresh()
    assert model.rowCount(paris) == 2
    assert lyon_company in [model.index(r, 0, alpha).data(KEY_ROLE) for r in range(3)]
    fleet.services.orgs.delete(root, lyon_company)
    with qtbot.waitSignal(model.refreshed, timeout=10_000):
        model.refresh()
    assert model.rowCount(alpha) == 2
    assert not model.index_for_key(lyon_company).isValid()


def test_a_failed_load_is_reported_not_raised(qtbot, shared_fleet: Fleet):
    principal = Principal("ghost", "admin", tenant_id=None, source="tests")
    model = OrgTreeModel(session_for(shared_fleet, principal))
    with qtbot.waitSignal(model.pageLoaded, timeout=10_000):
        model.fetchMore(ROOT)
    assert model.rowCount() == 0

    session = session_for(shared_fleet)
    model = OrgTreeModel(session)
    load(qtbot, model)
    acme = child(model, ROOT, shared_fleet.org["acme"])
    session.backend._inner = _Broken()
    with qtbot.waitSignal(model.loadFailed, timeout=10_000) as failed:
        model.fetchMore(acme)
    assert failed.args == ["The database is unavailable right now."]
    assert not model.canFetchMore(acme)


class _Broken:
    def list_children(self, *args, **kwargs):
        from argos_core.errors import DatabaseUnavailable

        raise DatabaseUnavailable("The database is unavailable right now.")


def test_a_renamed_node_moves_into_name_order_keeping_the_selection(
    qtbot, qtmodeltester, fleet: Fleet
):
    from PySide6.QtCore import QItemSelectionModel

    model = OrgTreeModel(session_for(fleet))
    f = fleet.org
    acme = open_path(qtbot, model, f["acme"])
    load(qtbot, model, acme)
    qtmodeltester.check(model)  # the moves below are checked as they happen
    qtbot.waitUntil(lambda: workers_in_flight() == 0)  # what the tester fetched itself
    selection = QItemSelectionModel(model)
    alpha = child(model, acme, f["alpha"])
    selection.setCurrentIndex(alpha, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    names = lambda: [model.index(r, 0, acme).data() for r in range(model.rowCount(acme))]  # noqa: E731
    assert names() == ["Alpha Corp", "Beta Corp"]

    root = Principal("root", "superadmin", source="tests")
    model.update_item(fleet.services.orgs.rename(root, f["alpha"], "Zulu Corp"))
    assert names() == ["Beta Corp", "Zulu Corp"]
    assert selection.currentIndex().data(KEY_ROLE) == f["alpha"]
    assert model.index_for_key(f["alpha"]).row() == 1

    fleet.services.orgs.rename(root, f["alpha"], "Aardvark Corp")  # by another console
    with qtbot.waitSignal(model.refreshed, timeout=10_000):
        model.refresh()
    assert names() == ["Aardvark Corp", "Beta Corp"]
    assert selection.currentIndex().data(KEY_ROLE) == f["alpha"]
