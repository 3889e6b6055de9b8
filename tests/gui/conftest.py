"""GUI fixtures: a small real fleet (SQLite and MariaDB) behind a ConsoleSession, reached
directly or through a real Argos server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QCoreApplication, QThreadPool
from PySide6.QtWidgets import QWidget
from sqlalchemy import update

from argos_core.bootstrap import Services, bootstrap
from argos_core.models import Agent, utcnow
from argos_core.scope import Principal
from argos_desktop.backend.direct import DirectBackend, identity_of
from argos_desktop.backend.remote import connect_remote
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import workers_in_flight
from tests.databases import scratch_database
from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.support import ServerThread
from tests.factories import add_agent

BERLIN_AGENTS = {
    "berlin-web-01": "online",
    "berlin-web-02": "online",
    "berlin-db-01": "offline",
    "berlin-db-02": "overdue",
    "berlin-new-01": "never_seen",
    "berlin-old-01": "revoked",
}
OSLO_AGENTS = 25


CONSOLE_BACKENDS = ("direct", "remote")
PASSWORD = "Correct-horse-9"  # of every account the tests sign in with, "root" included
ROOT = Principal("root", "superadmin", source="tests")


@dataclass
class Fleet:
    services: Services
    org: dict[str, str] = field(default_factory=dict)
    agents: dict[str, str] = field(default_factory=dict)
    server_url: str = ""  # set: sessions sign in to this Argos server (the remote backend)

    def sign_in(self, principal: Principal, password: str) -> ConsoleSession:
        """``principal``'s session: over the server when there is one, else direct."""
        if not self.server_url:
            return direct_session(self.services, principal, "test database")
        backend, identity = connect_remote(self.server_url, principal.username, password)
        return ConsoleSession(backend, identity, "test server", self.server_url)

    def set_seen(self, hostname: str, when: datetime | None) -> None:
        with self.services.session_factory() as session:
            session.execute(
                update(Agent).where(Agent.uuid == self.agents[hostname]).values(last_seen=when)
            )
            session.commit()


def seen_for(status: str, now: datetime) -> datetime | None:
    return {
        "online": now - timedelta(seconds=5),
        "offline": now - timedelta(minutes=5),
        "overdue": now - timedelta(hours=2),
    }.get(status)


def build_fleet(url: str) -> Fleet:
    services = bootstrap(url)
    root = ROOT
    services.users.create_superadmin(root.username, PASSWORD, source="tests")
    fleet = Fleet(services)
    orgs = services.orgs
    acme = orgs.create_tenant(root, "Acme MSP").org_id
    zeta = orgs.create_tenant(root, "Zeta Hosting").org_id
    orgs.create_tenant(root, "Empty Tenant")
    alpha = orgs.create_company(root, acme, "Alpha Corp").org_id
    beta = orgs.create_company(root, acme, "Beta Corp").org_id
    zeta_co = orgs.create_company(root, zeta, "Zeta Co").org_id
    berlin = orgs.create_branch(root, alpha, "Berlin").org_id
    paris = orgs.create_branch(root, alpha, "Paris").org_id
    lyon = orgs.create_branch(root, beta, "Lyon").org_id
    oslo = orgs.create_branch(root, zeta_co, "Oslo").org_id
    fleet.org.update(
        acme=acme,
        zeta=zeta,
        alpha=alpha,
        beta=beta,
        zeta_co=zeta_co,
        berlin=berlin,
        paris=paris,
        lyon=lyon,
        oslo=oslo,
    )
    now = utcnow()
    for hostname, status in BERLIN_AGENTS.items():
        fleet.agents[hostname] = add_agent(
            services.session_factory,
            berlin,
            hostname,
            last_seen=seen_for(status, now),
            revoked=status == "revoked",
        )
    fleet.agents["paris-web-01"] = add_agent(
        services.session_factory, paris, "paris-web-01", last_seen=seen_for("online", now)
    )
    for n in range(OSLO_AGENTS):
        name = f"oslo-node-{n:02d}"
        fleet.agents[name] = add_agent(
            services.session_factory, oslo, name, last_seen=seen_for("online", now)
        )
    return fleet


@pytest.fixture(scope="module")
def shared_fleet(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """A fleet for tests that only read."""
    with scratch_database(db_backend, tmp_path_factory.mktemp("gui")) as url:
        fleet = build_fleet(url)
        yield fleet
        fleet.services.close()


@pytest.fixture(params=CONSOLE_BACKENDS)
def fleet(request: pytest.FixtureRequest, fresh_database_url: str) -> Iterator[Fleet]:
    """A fleet of its own for tests that change it, over each backend."""
    built = build_fleet(fresh_database_url)
    with console_server(built, request.param):
        yield built
    built.services.close()


class CountingBackend:
    """Wraps a backend and counts calls per method, to prove loading is lazy."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()
        self.args: list[tuple] = []

    def __getattr__(self, name: str):
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        def counted(*args, **kwargs):
            self.calls[name] += 1
            self.args.append((name, args, kwargs))
            return target(*args, **kwargs)

        return counted


@contextmanager
def console_server(fleet: Fleet, backend: str) -> Iterator[None]:
    """For the remote backend, a real Argos server on the fleet's database meanwhile."""
    if backend == "direct":
        yield
        return
    server = ServerThread(fleet.services.database_url, TEST_CONFIG).start()
    fleet.server_url = server.url
    try:
        yield
    finally:
        fleet.server_url = ""
        server.stop()


def direct_session(services: Services, principal: Principal, label: str = "test") -> ConsoleSession:
    return ConsoleSession(DirectBackend(services, principal), identity_of(principal), label)


def session_for(fleet: Fleet, principal: Principal | None = None) -> ConsoleSession:
    """A session whose backend counts its calls, over the fleet's backend."""
    session = fleet.sign_in(principal or ROOT, PASSWORD)
    session.backend = CountingBackend(session.backend)
    return session


@pytest.fixture(autouse=True)
def _no_worker_left_behind(qtbot) -> Iterator[None]:
    """Every worker delivers before the test's widgets go away."""
    yield
    qtbot.waitUntil(lambda: workers_in_flight() == 0, timeout=10_000)
    QThreadPool.globalInstance().waitForDone(10_000)


class FakeDetailPane(QWidget):
    """Stands in for the real detail pane where a test is only about the shell."""

    from PySide6.QtCore import Signal

    agentActivated = Signal(str)

    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.shown: list[tuple[str, str]] = []
        self.refreshes = 0
        self.cleared = 0
        self.following: list[bool] = []  # node_follows of each refresh
        self.arrived: list = []  # OrgNodes handed over by the tree's refresh
        self.current: tuple[str, str] | None = None

    def show_node(self, kind: str, key: str) -> None:
        self.shown.append((kind, key))
        self.current = (kind, key)

    def clear(self) -> None:
        self.cleared += 1
        self.current = None

    def refresh(self, *, node_follows: bool = False) -> None:
        self.refreshes += 1
        self.following.append(node_follows)

    def node_arrived(self, node) -> None:
        self.arrived.append(node)


def settle(view) -> None:
    """Run a view's delayed layout now: that is where it would ask the model for more rows."""
    view.executeDelayedItemsLayout()
    QCoreApplication.processEvents()
