"""Threshold and offline rules evaluated against real databases: duration, consecutive
samples, hysteresis, inheritance and overrides, absence, and no duplicate alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from argos_core.alerts import lifecycle
from argos_core.alerts.evaluation import (
    PLACE,
    RuleCache,
    ThresholdEvaluator,
    absence_pass,
    load_rules,
)
from argos_core.models import Agent, Alert, NotificationOutbox, utcnow
from argos_core.settings import StatusPolicy
from tests.alert_support import agent_id, build_fleet, store

T0 = 1_790_000_000


@pytest.fixture
def fleet(services, superadmin):
    return build_fleet(services, superadmin)


def evaluator(services) -> ThresholdEvaluator:
    return ThresholdEvaluator(services.session_factory, RuleCache(ttl_s=0))


def active(services, superadmin):
    return services.alerts.list_alerts(superadmin).items


def test_consecutive_samples_open_an_alert_and_hysteresis_resolves_it(services, superadmin, fleet):
    services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        recover_at=70,
        samples=3,
        severity="critical",
    )
    ev = evaluator(services)
    web = agent_id(services, fleet.web)
    for i, cpu in enumerate((95, 96)):
        assert (
            ev.evaluate({web: store(services, fleet.web, T0 + 30 * i, cpu_percent=cpu)}).opened
            == []
        )
    outcome = ev.evaluate({web: store(services, fleet.web, T0 + 60, cpu_percent=97)})
    assert len(outcome.opened) == 1
    [alert] = active(services, superadmin)
    assert (alert.hostname, alert.severity, alert.value, alert.state) == (
        "web-01",
        "critical",
        97,
        "open",
    )
    assert alert.path == "Acme / HQ / Berlin"
    # Between the recovery threshold and the threshold: still open (no flapping).
    assert ev.evaluate({web: store(services, fleet.web, T0 + 90, cpu_percent=80)}).resolved == []
    assert ev.evaluate({web: store(services, fleet.web, T0 + 120, cpu_percent=92)}).opened == []
    assert ev.evaluate({web: store(services, fleet.web, T0 + 150, cpu_percent=65)}).resolved == [
        alert.id
    ]
    assert active(services, superadmin) == []
    [history] = services.alerts.list_alerts(superadmin, active=False).items
    assert history.id == alert.id and history.resolved_at is not None and history.value == 65


def test_an_interrupted_run_of_samples_does_not_open(services, superadmin, fleet):
    services.alerts.create_rule(
        superadmin,
        fleet.berlin,
        metric="mem_percent",
        comparison="above",
        threshold=50,
        samples=2,
        severity="warning",
    )
    ev = evaluator(services)
    web = agent_id(services, fleet.web)
    for i, mem in enumerate((60, 40, 60)):
        assert (
            ev.evaluate({web: store(services, fleet.web, T0 + 30 * i, mem_percent=mem)}).opened
            == []
        )


def test_a_duration_opens_only_once_the_breach_has_lasted_that_long(services, superadmin, fleet):
    services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="disk_percent",
        comparison="above",
        threshold=80,
        for_s=120,
        severity="warning",
    )
    ev = evaluator(services)
    web = agent_id(services, fleet.web)
    store(services, fleet.web, T0 - 60, disk_percent=50)
    for ts in (T0, T0 + 60):
        assert ev.evaluate({web: store(services, fleet.web, ts, disk_percent=85)}).opened == []
    assert (
        len(ev.evaluate({web: store(services, fleet.web, T0 + 120, disk_percent=85)}).opened) == 1
    )


def test_below_rules_breach_under_the_threshold(services, superadmin, fleet):
    services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="uptime_s",
        comparison="below",
        threshold=300,
        recover_at=600,
        severity="warning",
    )
    ev = evaluator(services)
    web = agent_id(services, fleet.web)
    assert len(ev.evaluate({web: store(services, fleet.web, T0, uptime_s=10)}).opened) == 1
    assert ev.evaluate({web: store(services, fleet.web, T0 + 30, uptime_s=400)}).resolved == []
    assert len(ev.evaluate({web: store(services, fleet.web, T0 + 60, uptime_s=700)}).resolved) == 1


def test_overrides_disable_or_change_a_rule_for_a_subtree(services, superadmin, fleet):
    rule = services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        severity="warning",
    )
    services.alerts.override_rule(superadmin, rule.id, fleet.paris, enabled=False)
    services.alerts.override_rule(superadmin, rule.id, fleet.db, threshold=99)
    ev = evaluator(services)
    ids = {name: agent_id(services, getattr(fleet, name)) for name in ("web", "db", "cache")}
    rows = {
        ids[name]: store(services, getattr(fleet, name), T0, cpu_percent=95)
        for name in ("web", "db", "cache")
    }
    outcome = ev.evaluate(rows)
    assert [a.hostname for a in active(services, superadmin)] == ["web-01"]
    assert len(outcome.opened) == 1
    assert (
        len(ev.evaluate({ids["db"]: store(services, fleet.db, T0 + 30, cpu_percent=99.5)}).opened)
        == 1
    )
    [db_alert] = [a for a in active(services, superadmin) if a.hostname == "db-01"]
    assert db_alert.rule_id == rule.id and db_alert.threshold == 99


def test_evaluating_again_or_from_another_process_never_opens_twice(services, superadmin, fleet):
    services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        severity="warning",
    )
    web = agent_id(services, fleet.web)
    row = store(services, fleet.web, T0, cpu_percent=95)
    assert len(evaluator(services).evaluate({web: row}).opened) == 1
    # A second evaluator (a restarted process, or another one) sees the open alert.
    assert evaluator(services).evaluate({web: row}).opened == []
    assert len(active(services, superadmin)) == 1


def test_samples_without_the_metric_are_ignored(services, superadmin, fleet):
    services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="load_1m",
        comparison="above",
        threshold=4,
        severity="warning",
    )
    web = agent_id(services, fleet.web)
    assert (
        evaluator(services).evaluate({web: store(services, fleet.web, T0, cpu_percent=99)}).opened
        == []
    )


def silence(services, uuid: str, seconds: float) -> None:
    with services.session_factory() as session:
        session.execute(
            update(Agent)
            .where(Agent.uuid == uuid)
            .values(last_seen=utcnow() - timedelta(seconds=seconds))
        )
        session.commit()


def test_offline_rules_open_for_silent_agents_and_resolve_when_they_report(
    services, superadmin, fleet
):
    policy = StatusPolicy(report_interval_s=30)
    services.alerts.create_rule(superadmin, fleet.berlin, condition="offline", severity="critical")
    for uuid in (fleet.web, fleet.db, fleet.cache):
        silence(services, uuid, 600)
    silence(services, fleet.db, 5)
    outcome = absence_pass(services.session_factory, policy)
    assert [a.hostname for a in active(services, superadmin)] == ["web-01"]
    assert len(outcome.opened) == 1
    assert absence_pass(services.session_factory, policy).opened == []  # once, not per pass
    silence(services, fleet.web, 1)
    assert len(absence_pass(services.session_factory, policy).resolved) == 1
    assert active(services, superadmin) == []


def test_offline_rules_wait_their_extra_duration_and_skip_revoked_agents(
    services, superadmin, fleet
):
    policy = StatusPolicy(report_interval_s=30)
    services.alerts.create_rule(
        superadmin, fleet.tenant, condition="offline", for_s=600, severity="warning"
    )
    silence(services, fleet.web, 300)
    silence(services, fleet.db, 1000)
    silence(services, fleet.cache, 1000)
    services.agents.revoke_agent(superadmin, fleet.cache)
    absence_pass(services.session_factory, policy)
    assert [a.hostname for a in active(services, superadmin)] == ["db-01"]


def test_disabling_an_offline_rule_resolves_its_alerts(services, superadmin, fleet):
    policy = StatusPolicy(report_interval_s=30)
    rule = services.alerts.create_rule(
        superadmin, fleet.tenant, condition="offline", severity="warning"
    )
    silence(services, fleet.web, 600)
    absence_pass(services.session_factory, policy)
    services.alerts.set_rule_enabled(superadmin, rule.id, False)
    absence_pass(services.session_factory, policy)
    with services.session_factory() as session:
        states = session.scalars(select(Alert.state)).all()
    assert states == ["resolved"]


def test_overdue_rules_wait_for_the_overdue_threshold(services, superadmin, fleet):
    policy = StatusPolicy(report_interval_s=30, overdue_after_s=1800)
    services.alerts.create_rule(superadmin, fleet.tenant, condition="overdue", severity="critical")
    silence(services, fleet.web, 600)
    silence(services, fleet.db, 2000)
    absence_pass(services.session_factory, policy)
    [alert] = active(services, superadmin)
    assert (alert.hostname, alert.condition, alert.rule) == ("db-01", "overdue", "overdue")


@pytest.mark.parametrize("window", [{"samples": 3}, {"for_s": 120}])
def test_a_breach_its_own_request_shows_interrupted_is_judged_without_reading_telemetry(
    services, superadmin, fleet, window
):
    services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        severity="critical",
        **window,
    )
    ev = evaluator(services)
    web = agent_id(services, fleet.web)
    batch = [
        store(services, fleet.web, T0 + 30 * i, cpu_percent=c) for i, c in enumerate((95, 50, 97))
    ]
    telemetry_reads = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "FROM telemetry" in statement:
            telemetry_reads.append(statement)

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        assert ev.evaluate({web: batch[-1]}, recent={web: batch}).opened == []
        assert telemetry_reads == []
        # Its request unbroken: the database is asked, and says the run is long enough.
        run = [store(services, fleet.web, T0 + 30 * i, cpu_percent=99) for i in range(3, 8)]
        assert len(ev.evaluate({web: run[-1]}, recent={web: run}).opened) == 1
        assert telemetry_reads != []
    finally:
        event.remove(services.engine, "before_cursor_execute", count)


def test_opening_many_at_once_opens_each_once_with_its_notifications_in_one_transaction(
    services, superadmin, fleet
):
    rule = services.alerts.create_rule(
        superadmin, fleet.tenant, condition="offline", severity="critical"
    )
    services.alerts.create_channel(superadmin, fleet.tenant, "webhook", "https://hooks.example/a")
    now = utcnow()
    with services.session_factory() as session:
        [spec] = load_rules(session).effective(*place(session, fleet.web))
        web, db, cache = (place_row(session, u) for u in (fleet.web, fleet.db, fleet.cache))
        assert lifecycle.open_alert(session, spec, web, None, now) is not None
        session.commit()  # another process opened web-01's alert first
    with services.session_factory() as session:
        opened = lifecycle.open_alerts(session, [(spec, db), (spec, cache)], now)
        session.rollback()  # the caller's transaction fails: nothing of it stays
    assert len(opened) == 2 and outbox_hosts(services) == ["web-01"]
    with services.session_factory() as session:
        opened = lifecycle.open_alerts(session, [(spec, web), (spec, db), (spec, cache)], now)
        session.commit()
    assert sorted(a.agent_id for a in opened) == sorted([db.id, cache.id])
    assert sorted(a.hostname for a in active(services, superadmin)) == [
        "cache-01",
        "db-01",
        "web-01",
    ]
    assert outbox_hosts(services) == ["cache-01", "db-01", "web-01"]  # one row per alert
    with services.session_factory() as session:
        opened = lifecycle.open_alerts(session, [(spec, db), (spec, cache)], now)
        session.commit()
    assert opened == [] and len(outbox_hosts(services)) == 3
    with services.session_factory() as session:
        ids = {
            r.alert_id: r.payload["alert_id"] for r in session.scalars(select(NotificationOutbox))
        }
        assert all(key == value for key, value in ids.items())
        assert {a.rule_id for a in session.scalars(select(Alert))} == {rule.id}
        every = sorted(ids)
        assert sorted(lifecycle.resolve_by_id(session, every, now)) == every
        assert lifecycle.resolve_by_id(session, every, now) == []  # resolved once
        session.commit()
    assert active(services, superadmin) == []
    with services.session_factory() as session:
        events = [
            (r.event, r.payload["resolved_at"]) for r in session.scalars(select(NotificationOutbox))
        ]
    assert sorted(events).count(("alert.resolved", now.isoformat())) == 3


def place_row(session, uuid: str):
    return session.execute(select(*PLACE).where(Agent.uuid == uuid)).one()


def place(session, uuid: str) -> tuple[int, int, int, int]:
    row = place_row(session, uuid)
    return row.tenant_id, row.company_id, row.branch_id, row.id


def outbox_hosts(services) -> list[str]:
    with services.session_factory() as session:
        return sorted(r.payload["hostname"] for r in session.scalars(select(NotificationOutbox)))
