"""``argos --demo``: the demo database, its fleet kept alive, children that may be missing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, delete, func, select, update

from argos_core.alerts.evaluation import absence_pass
from argos_core.bootstrap import bootstrap
from argos_core.demo import DemoHeartbeat, prepare_demo
from argos_core.models import Agent, Alert, AlertRule, Telemetry, utcnow
from argos_core.scope import Principal
from argos_core.settings import StatusPolicy
from argos_core.status import AgentStatus
from argos_desktop import demo_mode
from argos_desktop.backend.remote import RemoteBackend
from argos_desktop.demo_mode import DemoProcesses, open_demo_directly, sign_in_through_server
from argos_desktop.workers import workers_in_flight

SMALL = {"tenants": 1, "companies": 1, "branches": 2, "agents": 10, "days": 0.02}


@pytest.fixture
def demo_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = prepare_demo(url, **SMALL)
    assert first.seeded
    return url


def statuses(url: str) -> dict[AgentStatus, int]:
    start = open_demo_directly(prepare_demo(url))
    try:
        roots = start.session.backend.list_children(None).items
        return {s: sum(r.counts.get(s) for r in roots) for s in AgentStatus}
    finally:
        start.session.backend.close()


def test_demo_signs_in_as_the_demo_superadmin_with_a_key_for_the_simulator(demo_url):
    start = open_demo_directly(prepare_demo(demo_url))
    try:
        assert start.session.identity.is_superadmin
        assert start.session.username == "demo"
        assert start.enrollment_key and start.database.branch_org_id
        assert not start.database.seeded
    finally:
        start.session.backend.close()


def test_a_later_run_brings_an_old_demo_fleet_up_to_date(demo_url):
    fresh = statuses(demo_url)
    assert fresh[AgentStatus.ONLINE] > fresh[AgentStatus.OVERDUE]
    services = bootstrap(demo_url)
    with services.engine.begin() as conn:  # as if the demo last ran three days ago
        for agent_id, seen in conn.execute(select(Agent.id, Agent.last_seen)).all():
            if seen is not None:
                conn.execute(
                    update(Agent)
                    .where(Agent.id == agent_id)
                    .values(last_seen=seen - timedelta(days=3))
                )
        conn.execute(update(Telemetry).values(ts=-(Telemetry.ts - 3 * 86400)))
        conn.execute(update(Telemetry).values(ts=-Telemetry.ts))
        newest = conn.scalar(select(func.max(Telemetry.ts)))
    services.close()
    assert statuses(demo_url)[AgentStatus.ONLINE] == fresh[AgentStatus.ONLINE]
    services = bootstrap(demo_url)
    with services.engine.connect() as conn:
        assert conn.scalar(select(func.max(Telemetry.ts))) >= newest + 3 * 86400 - 120
    services.close()


def test_the_heartbeat_keeps_the_online_cohort_online(demo_url):
    services = bootstrap(demo_url)
    later = (utcnow() + timedelta(minutes=10)).replace(microsecond=0)
    try:
        before = services.engine.connect().scalar(select(func.count()).select_from(Telemetry))
        reported = DemoHeartbeat(services.session_factory).beat(now=later)
        assert 0 < reported < SMALL["branches"] * SMALL["agents"]
        with services.engine.connect() as conn:
            seen_now = conn.scalar(select(func.count()).where(Agent.last_seen >= later))
            samples = conn.scalar(select(func.count()).select_from(Telemetry))
        assert seen_now == reported
        assert samples == before + reported
    finally:
        services.close()


def test_demo_without_server_executables_says_so(qtbot, demo_url, monkeypatch):
    monkeypatch.setattr(demo_mode, "find_executable", lambda name: None)
    processes = DemoProcesses()
    database = prepare_demo(demo_url)
    assert processes.start_server(database) == 0
    start = open_demo_directly(database)
    try:
        with qtbot.waitSignal(processes.note, timeout=5_000) as note:
            processes.attach(start)
        assert "argos-ingest not installed" in note.args[0]
        assert processes.ingest is None and processes.simulator is None
    finally:
        processes.stop()
        qtbot.waitUntil(lambda: workers_in_flight() == 0, timeout=10_000)
        start.session.backend.close()


def test_demo_signs_in_through_the_api_of_the_server_it_starts(qtbot, demo_url):
    processes = DemoProcesses()
    database = prepare_demo(demo_url)
    port = processes.start_server(database)
    assert port, "argos-ingest is installed with the console"
    try:
        start = sign_in_through_server(database, port)
        try:
            assert isinstance(start.session.backend, RemoteBackend)
            assert start.session.identity.is_superadmin and start.session.username == "demo"
            assert start.session.label == f"Demo · Argos server 127.0.0.1:{port}"
            assert start.session.server_url == f"http://127.0.0.1:{port}"  # agents' address too
            roots = start.session.backend.list_children(None).items
            assert roots and sum(r.counts.total for r in roots) > 0
            keys = start.session.backend.list_keys(database.branch_org_id)
            assert any(k.note == "argos --demo simulator" for k in keys)
        finally:
            start.session.backend.close()
            start.services.close()
    finally:
        processes.stop()


def test_a_failed_heartbeat_is_said_and_its_message_clears_when_it_works_again(
    qtbot, demo_url, monkeypatch
):
    monkeypatch.setattr(demo_mode, "find_executable", lambda name: None)
    processes = DemoProcesses()
    database = prepare_demo(demo_url)
    start = open_demo_directly(database)
    engine = create_engine(demo_url)
    try:
        with qtbot.waitSignal(processes.note, timeout=5_000) as standing:
            processes.attach(start)
        qtbot.waitUntil(lambda: workers_in_flight() == 0, timeout=10_000)
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE agents RENAME TO agents_away")
        with qtbot.waitSignal(processes.note, timeout=10_000) as failed:
            processes.beat()
        assert failed.args[0].startswith("Demo: Something went wrong (OperationalError")
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE agents_away RENAME TO agents")
        with qtbot.waitSignal(processes.note, timeout=10_000) as cleared:
            processes.beat()
        assert cleared.args == standing.args
    finally:
        engine.dispose()
        processes.stop()
        qtbot.waitUntil(lambda: workers_in_flight() == 0, timeout=10_000)
        start.session.backend.close()


def test_the_demo_has_alert_rules_and_maintenance_windows_once(demo_url):
    services = bootstrap(demo_url)
    try:
        root = Principal("demo", "superadmin", source="tests")
        rules = services.alerts.list_rules(root)
        tenants = services.orgs.list_children(root, None).items
        assert sorted((r.condition, r.metric or "") for r in rules) == sorted(
            [("offline", ""), ("threshold", "cpu_percent"), ("threshold", "disk_percent")]
            * len(tenants)
        )
        windows = services.alerts.list_maintenance(root)
        assert sorted(w.repeat for w in windows) == ["daily", "none"]
        assert any(w.open_until is not None for w in windows), "patching is under way"
        # The seeded fleet has silent agents: the demo server's absence pass opens alerts.
        opened = absence_pass(services.session_factory, StatusPolicy()).opened
        assert opened and services.alerts.list_alerts(root).total == len(opened)
        with services.engine.begin() as conn:  # a demo seeded before it had alerts
            conn.execute(delete(Alert))
            conn.execute(delete(AlertRule))
        prepare_demo(demo_url)
        prepare_demo(demo_url)
        assert len(services.alerts.list_rules(root)) == len(rules)
    finally:
        services.close()
