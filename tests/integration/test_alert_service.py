"""Alert rules, acknowledgements, channels and maintenance through the service: scope,
roles, audit entries and clear refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from argos_core.alerts.evaluation import RuleCache, ThresholdEvaluator
from argos_core.errors import Conflict, NotFound, ScopeViolation, UnknownOrgId, ValidationError
from argos_core.models import Branch, Company, NotificationOutbox, utcnow
from argos_core.scope import Principal
from tests.alert_support import agent_id, build_fleet, store

T0 = 1_790_000_000


@pytest.fixture
def fleet(services, superadmin):
    return build_fleet(services, superadmin)


def ids_of(services, model, org_id):
    with services.session_factory() as session:
        row = session.scalar(select(model).where(model.org_id == org_id))
        return row.tenant_id, row.id


def paris_admin(services, fleet, role="admin") -> Principal:
    with services.session_factory() as session:
        branch = session.scalar(select(Branch).where(Branch.org_id == fleet.paris))
        return Principal("paris", role, branch.tenant_id, branch.company_id, branch.id, fleet.paris)


def company_admin(services, fleet, role="admin") -> Principal:
    tenant_id, company_id = ids_of(services, Company, fleet.company)
    return Principal("hq", role, tenant_id, company_id, None, fleet.company)


def cpu_rule(services, who, node, threshold=90.0, severity="warning"):
    return services.alerts.create_rule(
        who, node, metric="cpu_percent", comparison="above", threshold=threshold, severity=severity
    )


def open_cpu_alerts(services, superadmin, fleet):
    cpu_rule(services, superadmin, fleet.tenant)
    ev = ThresholdEvaluator(services.session_factory, RuleCache(ttl_s=0))
    rows = {
        agent_id(services, u): store(services, u, T0, cpu_percent=99)
        for u in (fleet.web, fleet.cache)
    }
    assert len(ev.evaluate(rows).opened) == 2


def test_client_admins_see_only_their_subtrees_alerts(services, superadmin, fleet):
    open_cpu_alerts(services, superadmin, fleet)
    paris = paris_admin(services, fleet)
    assert [a.hostname for a in services.alerts.list_alerts(paris).items] == ["cache-01"]
    stranger = Principal("x", "admin", tenant_id=999_999)
    assert services.alerts.list_alerts(stranger).items == []
    web_alert = services.alerts.list_alerts(superadmin, node=fleet.berlin).items[0]
    with pytest.raises(NotFound):
        services.alerts.acknowledge(paris, web_alert.id, "not mine")
    with pytest.raises(UnknownOrgId):
        services.alerts.list_alerts(paris, node=fleet.berlin)


def test_pages_of_alerts_count_them_all(services, superadmin, fleet):
    open_cpu_alerts(services, superadmin, fleet)
    pages = [
        services.alerts.list_alerts(superadmin, offset=offset, limit=limit)
        for offset, limit in ((0, 1), (1, 1), (0, 5), (2, 5))
    ]
    assert [(len(p.items), p.total) for p in pages] == [(1, 2), (1, 2), (2, 2), (0, 2)]


def test_acknowledging_records_who_why_and_until_and_is_audited(services, superadmin, fleet):
    open_cpu_alerts(services, superadmin, fleet)
    paris = paris_admin(services, fleet)
    [alert] = services.alerts.list_alerts(paris).items
    until = utcnow() + timedelta(hours=2)
    acked = services.alerts.acknowledge(paris, alert.id, "  rebooting it  ", until)
    assert (acked.state, acked.acked_by, acked.ack_comment) == (
        "acknowledged",
        "user:paris",
        "rebooting it",
    )
    assert acked.acked_until == until
    entries = services.audit.list_entries(paris, action="alert.acknowledge").items
    assert [(e.target, e.after["comment"]) for e in entries] == [(str(alert.id), "rebooting it")]
    viewer = paris_admin(services, fleet, role="viewer")
    assert services.alerts.list_alerts(viewer).items[0].state == "acknowledged"
    with pytest.raises(ScopeViolation):
        services.alerts.acknowledge(viewer, alert.id, "viewers read")
    with pytest.raises(ValidationError):
        services.alerts.acknowledge(paris, alert.id, "past", until=utcnow() - timedelta(hours=1))


def test_a_resolved_alert_cannot_be_acknowledged(services, superadmin, fleet):
    open_cpu_alerts(services, superadmin, fleet)
    ev = ThresholdEvaluator(services.session_factory, RuleCache(ttl_s=0))
    cache = agent_id(services, fleet.cache)
    ev.evaluate({cache: store(services, fleet.cache, T0 + 30, cpu_percent=10)})
    [resolved] = services.alerts.list_alerts(superadmin, active=False).items
    with pytest.raises(Conflict):
        services.alerts.acknowledge(superadmin, resolved.id, "late")


def test_rules_above_a_clients_scope_are_listed_as_inherited_and_can_be_overridden(
    services, superadmin, fleet
):
    tenant_rule = cpu_rule(services, superadmin, fleet.tenant)
    berlin_rule = cpu_rule(services, superadmin, fleet.berlin, 80)
    paris = paris_admin(services, fleet)
    own = cpu_rule(services, paris, fleet.paris, 95)
    listed = {r.id: r.inherited for r in services.alerts.list_rules(paris)}
    assert listed == {tenant_rule.id: True, own.id: False}
    with pytest.raises(NotFound):
        services.alerts.set_rule_enabled(paris, tenant_rule.id, False)
    with pytest.raises(NotFound):
        services.alerts.override_rule(paris, berlin_rule.id, fleet.paris, enabled=False)
    override = services.alerts.override_rule(paris, tenant_rule.id, fleet.paris, threshold=97)
    assert (override.overrides_id, override.threshold, override.node) == (
        tenant_rule.id,
        97,
        fleet.paris,
    )
    with pytest.raises(ValidationError):  # not below the rule's node
        services.alerts.override_rule(superadmin, berlin_rule.id, fleet.paris, enabled=False)
    actions = [e.action for e in services.audit.list_entries(superadmin).items]
    assert actions.count("alert_rule.create") == 3 and "alert_rule.override" in actions


def test_viewers_and_strangers_cannot_create_rules_channels_or_windows(services, superadmin, fleet):
    viewer = paris_admin(services, fleet, role="viewer")
    with pytest.raises(ScopeViolation):
        cpu_rule(services, viewer, fleet.paris)
    with pytest.raises(ScopeViolation):
        services.alerts.create_channel(viewer, fleet.paris, "email", "ops@example.com")
    paris = paris_admin(services, fleet)
    with pytest.raises(UnknownOrgId):
        cpu_rule(services, paris, fleet.berlin)
    with pytest.raises(NotFound):
        cpu_rule(services, paris, fleet.web)
    with pytest.raises(UnknownOrgId):
        services.alerts.create_channel(paris, fleet.tenant, "email", "ops@example.com")
    with pytest.raises(UnknownOrgId):
        services.alerts.create_maintenance(paris, fleet.berlin, datetime(2026, 12, 1, 2), 3600)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "bogus", "comparison": "above", "threshold": 1}, "Unknown metric"),
        ({"metric": "cpu_percent", "comparison": "above"}, "needs a threshold"),
        ({"metric": "cpu_percent", "comparison": "above", "threshold": float("nan")}, "finite"),
        (
            {"metric": "cpu_percent", "comparison": "above", "threshold": 90, "recover_at": 95},
            "at or below",
        ),
        (
            {"metric": "cpu_percent", "comparison": "below", "threshold": 10, "recover_at": 5},
            "at or above",
        ),
        ({"condition": "offline", "metric": "cpu_percent"}, "no metric"),
        ({"metric": "cpu_percent", "comparison": "above", "threshold": 1, "samples": 0}, "between"),
        ({"metric": "cpu_percent", "comparison": "sideways", "threshold": 1}, "'above' or"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_sentence(services, superadmin, fleet, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        services.alerts.create_rule(superadmin, fleet.tenant, severity="warning", **kwargs)


def test_channels_are_scoped_validated_and_get_rows_for_their_severity(services, superadmin, fleet):
    hq = company_admin(services, fleet)
    services.alerts.create_channel(hq, fleet.company, "webhook", "https://hooks.example/a")
    services.alerts.create_channel(
        hq, fleet.paris, "email", "paris@example.com", min_severity="critical"
    )
    services.alerts.create_channel(superadmin, fleet.berlin, "email", "berlin@example.com")
    paris = paris_admin(services, fleet)
    assert [c.target for c in services.alerts.list_channels(paris)] == ["paris@example.com"]
    assert len(services.alerts.list_channels(hq)) == 3
    for kind, target in (
        ("webhook", "ftp://x"),
        ("webhook", "nohost"),
        ("email", "a@b"),
        ("sms", "1"),
    ):
        with pytest.raises(ValidationError):
            services.alerts.create_channel(hq, fleet.company, kind, target)
    open_cpu_alerts(services, superadmin, fleet)  # warnings on web-01 (Berlin), cache-01 (Paris)
    with services.session_factory() as session:
        rows = session.scalars(select(NotificationOutbox)).all()
    sent_to = sorted((r.payload["hostname"], r.channel_id) for r in rows)
    assert [h for h, _ in sent_to] == ["cache-01", "web-01", "web-01"]  # Paris takes critical only
    assert {r.event for r in rows} == {"alert.opened"}


def test_maintenance_windows_take_local_or_aware_starts_and_are_audited(
    services, superadmin, fleet
):
    local = services.alerts.create_maintenance(
        superadmin,
        fleet.berlin,
        datetime(2026, 12, 1, 23, 30),
        7200,
        repeat="daily",
        timezone="Europe/Berlin",
    )
    assert local.starts_local == "2026-12-01T23:30:00"
    aware = services.alerts.create_maintenance(
        superadmin,
        fleet.web,
        datetime.fromisoformat("2026-12-01T22:30:00+00:00"),
        600,
        timezone="Europe/Berlin",
    )
    assert aware.starts_local == "2026-12-01T23:30:00" and aware.node == fleet.web
    assert [w.id for w in services.alerts.list_maintenance(paris_admin(services, fleet))] == []
    for kwargs in ({"repeat": "hourly"}, {"timezone": "Mars/Olympus"}, {"timezone": "/etc"}):
        with pytest.raises(ValidationError):
            services.alerts.create_maintenance(
                superadmin, fleet.berlin, datetime(2026, 12, 1), 60, **kwargs
            )
    with pytest.raises(ValidationError):
        services.alerts.create_maintenance(
            superadmin, fleet.berlin, datetime(2026, 12, 1), 2 * 86400, repeat="daily"
        )
    with pytest.raises(ValidationError, match="between the years"):
        services.alerts.create_maintenance(superadmin, fleet.berlin, datetime(9999, 12, 31), 60)
    assert len(services.audit.list_entries(superadmin, action="maintenance.create").items) == 2


def test_channels_and_windows_are_removed_inside_the_scope_only_and_audited(
    services, superadmin, fleet
):
    hq, paris = company_admin(services, fleet), paris_admin(services, fleet)
    hook = services.alerts.create_channel(hq, fleet.company, "webhook", "https://hooks.example/a")
    mail = services.alerts.create_channel(hq, fleet.paris, "email", "paris@example.com")
    window = services.alerts.create_maintenance(hq, fleet.berlin, datetime(2026, 12, 1, 2), 3600)
    open_cpu_alerts(services, superadmin, fleet)
    for remove, ident in (
        (services.alerts.delete_channel, hook.id),
        (services.alerts.delete_maintenance, window.id),
    ):
        with pytest.raises(NotFound):  # above the Paris admin's scope: as if unknown
            remove(paris, ident)
        with pytest.raises(ScopeViolation):
            remove(paris_admin(services, fleet, role="viewer"), ident)
    services.alerts.delete_channel(hq, hook.id)
    services.alerts.delete_maintenance(hq, window.id)
    assert [c.id for c in services.alerts.list_channels(hq)] == [mail.id]
    assert services.alerts.list_maintenance(hq) == []
    with services.session_factory() as session:
        left = {r.channel_id for r in session.scalars(select(NotificationOutbox))}
    assert left == {mail.id}  # the removed channel's pending notifications went with it
    with pytest.raises(NotFound, match=f"No notification channel {hook.id}"):
        services.alerts.delete_channel(hq, hook.id)
    for action in ("notify_channel.delete", "maintenance.delete"):
        assert len(services.audit.list_entries(superadmin, action=action).items) == 1
