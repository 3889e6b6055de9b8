"""Notifications through the outbox to a real HTTP receiver and a real SMTP server:
the webhook contract, retries with backoff, at-least-once across restarts, grouping,
maintenance windows and reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from argos_core.alerts.evaluation import RuleCache, ThresholdEvaluator, absence_pass
from argos_core.models import NotificationOutbox, utcnow
from argos_core.settings import StatusPolicy
from ingest_server.jobs.alert_delivery import Delivery
from ingest_server.jobs.alert_senders import SmtpSettings
from tests.alert_support import agent_id, build_fleet, silence, store
from tests.receivers import smtp_server, webhook_receiver

T0 = 1_790_000_000
POLICY = StatusPolicy(report_interval_s=30)
CONTRACT = {
    "event",
    "alert_id",
    "severity",
    "rule",
    "metric",
    "value",
    "threshold",
    "agent_id",
    "hostname",
    "tenant",
    "company",
    "branch",
    "opened_at",
    "resolved_at",
}


@pytest.fixture
def fleet(services, superadmin):
    return build_fleet(services, superadmin)


def delivery(services, smtp_url: str | None = None, renotify=None) -> Delivery:
    settings = SmtpSettings(smtp_url, "argos@example.com") if smtp_url else None
    return Delivery(services.session_factory, renotify_after=renotify, smtp=settings)


def cpu_alert(services, superadmin, fleet, cpu=97.5, ts=T0):
    services.alerts.create_rule(
        superadmin,
        fleet.tenant,
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        recover_at=80,
        severity="critical",
    ) if not services.alerts.list_rules(superadmin) else None
    ev = ThresholdEvaluator(services.session_factory, RuleCache(ttl_s=0))
    return ev.evaluate(
        {agent_id(services, fleet.web): store(services, fleet.web, ts, cpu_percent=cpu)}
    )


def outbox_rows(services):
    with services.session_factory() as session:
        return session.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)).all()


def test_webhooks_get_the_protocol_payload_once_per_event(services, superadmin, fleet):
    with webhook_receiver() as hook:
        services.alerts.create_channel(superadmin, fleet.company, "webhook", hook.url)
        cpu_alert(services, superadmin, fleet)
        sender = delivery(services)
        assert sender.run() == 1
        [opened] = hook.bodies
        assert opened.keys() >= CONTRACT
        assert (opened["event"], opened["hostname"], opened["value"], opened["threshold"]) == (
            "alert.opened",
            "web-01",
            97.5,
            90,
        )
        assert (opened["tenant"], opened["company"], opened["branch"]) == ("Acme", "HQ", "Berlin")
        assert opened["branch_org_id"] == fleet.berlin and opened["resolved_at"] is None
        assert delivery(services).run() == 0  # a restarted deliverer does not send it again
        cpu_alert(services, superadmin, fleet, cpu=50, ts=T0 + 30)
        assert sender.run() == 1
        resolved = hook.bodies[-1]
        assert resolved["event"] == "alert.resolved" and resolved["resolved_at"] is not None
        assert resolved["alert_id"] == opened["alert_id"]
    assert {r.outcome for r in outbox_rows(services)} == {"sent"}


def test_a_receiver_down_for_a_while_gets_the_message_later_with_backoff(
    services, superadmin, fleet
):
    with webhook_receiver() as hook:
        port = int(hook.url.split(":")[2].split("/")[0])
        url = hook.url
        hook.status = 503
        services.alerts.create_channel(superadmin, fleet.tenant, "webhook", url)
        cpu_alert(services, superadmin, fleet)
        now = utcnow()
        assert delivery(services).run(now=now) == 0
        [row] = outbox_rows(services)
        assert (row.attempts, row.last_error, row.sent_at) == (1, "HTTP 503", None)
        assert row.next_attempt_at == now + timedelta(seconds=5)
    # Nobody listening at all now: connection refused, the wait doubles.
    later = row.next_attempt_at
    assert delivery(services).run(now=later) == 0
    [row] = outbox_rows(services)
    assert row.attempts == 2 and row.next_attempt_at == later + timedelta(seconds=10)
    assert delivery(services).run(now=later + timedelta(seconds=1)) == 0  # not due yet
    with webhook_receiver(port) as hook:
        assert delivery(services).run(now=row.next_attempt_at) == 1
        assert [b["event"] for b in hook.bodies] == ["alert.opened"]


def test_emails_carry_the_same_facts_over_smtp(services, superadmin, fleet):
    with smtp_server() as mailbox:
        services.alerts.create_channel(superadmin, fleet.berlin, "email", "ops@example.com")
        cpu_alert(services, superadmin, fleet)
        assert delivery(services, mailbox.url).run() == 1
        [mail] = mailbox.messages
        assert mail["To"] == "ops@example.com" and mail["From"] == "argos@example.com"
        assert "CRITICAL opened: web-01 cpu_percent above 90" in mail["Subject"]
        text = mail.get_payload(decode=True).decode()
        assert "Acme / HQ / Berlin" in text and "value 97.5 (threshold 90)" in text


def test_without_an_smtp_server_configured_email_rows_wait_and_say_why(services, superadmin, fleet):
    services.alerts.create_channel(superadmin, fleet.berlin, "email", "ops@example.com")
    cpu_alert(services, superadmin, fleet)
    assert delivery(services).run() == 0
    [row] = outbox_rows(services)
    assert "ARGOS_SMTP_URL" in row.last_error and row.sent_at is None


def test_a_branch_going_down_is_one_message_naming_its_agents(services, superadmin, fleet):
    services.alerts.create_rule(superadmin, fleet.tenant, condition="offline", severity="critical")
    with webhook_receiver() as hook, smtp_server() as mailbox:
        services.alerts.create_channel(superadmin, fleet.tenant, "webhook", hook.url)
        services.alerts.create_channel(superadmin, fleet.tenant, "email", "ops@example.com")
        silence(services, [fleet.web, fleet.db], 600)
        assert len(absence_pass(services.session_factory, POLICY).opened) == 2
        assert delivery(services, mailbox.url).run() == 2  # one webhook call, one e-mail
        [group] = hook.bodies
        assert group["group"] is True and group["count"] == 2 and group["branch"] == "Berlin"
        assert sorted(group["hostnames"]) == ["db-01", "web-01"]
        assert all(a.keys() >= CONTRACT for a in group["alerts"])
        [mail] = mailbox.messages
        assert "2 agents in Acme / HQ / Berlin" in mail["Subject"]
        assert {"web-01", "db-01"} <= set(mail.get_payload(decode=True).decode().split())


def test_agents_of_a_branch_falling_silent_over_several_passes_go_out_as_one_message(
    services, superadmin, fleet
):
    services.alerts.create_rule(superadmin, fleet.tenant, condition="offline", severity="critical")
    window = timedelta(seconds=30)
    with webhook_receiver() as hook:
        services.alerts.create_channel(superadmin, fleet.tenant, "webhook", hook.url)
        sender = Delivery(
            services.session_factory, renotify_after=None, smtp=None, group_window=window
        )
        t0 = utcnow()
        silence(services, [fleet.web], 600)
        assert len(absence_pass(services.session_factory, POLICY, t0, hold=window).opened) == 1
        assert sender.run(now=t0 + timedelta(seconds=10)) == 0  # held for its branch
        silence(services, [fleet.db], 600)
        later = t0 + timedelta(seconds=20)
        assert len(absence_pass(services.session_factory, POLICY, later, hold=window).opened) == 1
        assert sender.run(now=t0 + window) == 1
        [group] = hook.bodies
        assert group["count"] == 2 and sorted(group["hostnames"]) == ["db-01", "web-01"]
        assert sender.run(now=later + window) == 0
    assert {r.outcome for r in outbox_rows(services)} == {"sent"}


def test_channels_only_get_the_severities_they_asked_for(services, superadmin, fleet):
    services.alerts.create_rule(superadmin, fleet.tenant, condition="offline", severity="warning")
    with webhook_receiver() as hook:
        services.alerts.create_channel(
            superadmin, fleet.tenant, "webhook", hook.url, min_severity="critical"
        )
        silence(services, [fleet.web], 600)
        absence_pass(services.session_factory, POLICY)
        assert delivery(services).run() == 0 and hook.bodies == []


def test_maintenance_holds_notifications_and_drops_those_of_alerts_resolved_inside_it(
    services, superadmin, fleet
):
    services.alerts.create_rule(superadmin, fleet.tenant, condition="offline", severity="critical")
    now = utcnow()
    window = services.alerts.create_maintenance(
        superadmin, fleet.berlin, now - timedelta(minutes=5), 3600
    )
    start = datetime.fromisoformat(window.starts_local).replace(tzinfo=UTC)
    end = start + timedelta(seconds=window.duration_s)
    with webhook_receiver() as hook:
        services.alerts.create_channel(superadmin, fleet.tenant, "webhook", hook.url)
        silence(services, [fleet.web, fleet.cache], 600)
        absence_pass(services.session_factory, POLICY)
        [web_alert] = services.alerts.list_alerts(superadmin, node=fleet.berlin).items
        assert web_alert.in_maintenance
        assert delivery(services).run(now=utcnow()) == 1  # Paris is not in maintenance
        assert [b["hostname"] for b in hook.bodies] == ["cache-01"]
        held = [r for r in outbox_rows(services) if r.sent_at is None]
        assert [r.next_attempt_at for r in held] == [end]
        silence(services, [fleet.web], 1)  # back inside the window
        absence_pass(services.session_factory, POLICY)
        assert delivery(services, renotify=None).run(now=end) == 0
        assert hook.bodies[-1]["hostname"] == "cache-01"
    outcomes = sorted(r.outcome for r in outbox_rows(services) if r.payload["hostname"] == "web-01")
    assert outcomes == ["suppressed", "suppressed"]


def test_alerts_left_open_after_a_window_are_told_when_it_closes(services, superadmin, fleet):
    services.alerts.create_rule(superadmin, fleet.tenant, condition="offline", severity="critical")
    start = utcnow() - timedelta(minutes=5)
    services.alerts.create_maintenance(superadmin, fleet.web, start, 600)
    with webhook_receiver() as hook:
        services.alerts.create_channel(superadmin, fleet.tenant, "webhook", hook.url)
        silence(services, [fleet.web], 900)
        absence_pass(services.session_factory, POLICY)
        assert delivery(services).run() == 0
        assert delivery(services).run(now=start + timedelta(seconds=600)) == 1
        assert [b["hostname"] for b in hook.bodies] == ["web-01"]


def test_unacknowledged_alerts_are_notified_again_and_acknowledged_ones_are_not(
    services, superadmin, fleet
):
    services.alerts.create_rule(superadmin, fleet.tenant, condition="offline", severity="critical")
    with webhook_receiver() as hook:
        services.alerts.create_channel(superadmin, fleet.tenant, "webhook", hook.url)
        silence(services, [fleet.web, fleet.cache], 900)
        absence_pass(services.session_factory, POLICY)
        every = timedelta(minutes=10)
        assert delivery(services, renotify=every).run() == 2
        web = services.alerts.list_alerts(superadmin, node=fleet.berlin).items[0]
        services.alerts.acknowledge(superadmin, web.id, "on it")
        later = utcnow() + every + timedelta(seconds=1)
        assert delivery(services, renotify=every).run(now=later) == 2
        events = [(b["event"], b["hostname"], b.get("reminder", False)) for b in hook.bodies[2:]]
        assert sorted(events) == [
            ("alert.acknowledged", "web-01", False),
            ("alert.opened", "cache-01", True),
        ]
        acked = next(b for b in hook.bodies if b["event"] == "alert.acknowledged")
        assert acked["acknowledged_by"] == "superadmin:root" and acked["comment"] == "on it"
        # Once reminded, the next reminder waits another interval.
        assert delivery(services, renotify=every).run(now=later + timedelta(seconds=5)) == 0


def test_smtp_urls_are_checked():
    with pytest.raises(Exception, match="ARGOS_SMTP_URL"):
        SmtpSettings("http://mail.example.com")
    secure = SmtpSettings("smtps://user%40x:p%3Ass@mail.example.com")
    assert (secure.tls, secure.port, secure.username, secure.password) == (
        True,
        465,
        "user@x",
        "p:ss",
    )
