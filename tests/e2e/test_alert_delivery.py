"""Notifications from the running server: samples and silences become webhooks and e-mails
(real receivers), delivered by one process however many run, kept across restarts and a
receiver that is down for a while."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from argos_core.leases import Lease
from argos_core.models import NotificationOutbox
from ingest_server.context import IngestConfig
from ingest_server.jobs.alert_delivery import DELIVERY_JOB
from ingest_server.jobs.leased_loop import STOP_TIMEOUT_S
from tests.alert_support import silence
from tests.e2e.processes import environment, ingest, listening_url
from tests.e2e.support import (
    ROOT,
    ServerThread,
    TcpProxy,
    enroll,
    enroll_http,
    make_branch,
    post_json,
    request,
    sample,
    wait_until,
)
from tests.receivers import free_port, smtp_server, webhook_receiver

T0 = 1_790_000_000
FAST = IngestConfig(
    agent_rate=0,
    alert_evaluate_interval_s=0.05,
    alert_absence_interval_s=0.1,
    alert_delivery_interval_s=0.1,
    alert_group_window_s=0.5,
)
WAIT_S = 30
PROCESS_WAIT_S = 120  # a loaded machine takes long to start Python and import the server


def company_of(services, branch) -> str:
    return services.orgs.get_node(ROOT, branch.org_id).parent_org_id


def cpu_rule(services, branch) -> None:
    services.alerts.create_rule(
        ROOT,
        company_of(services, branch),
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        recover_at=80,
        severity="critical",
    )


def post(url, agent, ts, cpu):
    reply = post_json(
        url, "/api/v1/telemetry", {"samples": [sample(ts, cpu_percent=cpu)]}, token=agent.token
    )
    assert reply.status == 200, reply.body


def outbox(services) -> list[NotificationOutbox]:
    with services.session_factory() as session:
        return list(session.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)))


def all_sent(services) -> bool:
    rows = outbox(services)
    return bool(rows) and all(r.sent_at is not None for r in rows)


def test_a_sample_over_a_threshold_reaches_a_webhook_and_a_mailbox(
    fresh_database_url, fresh_services, monkeypatch
):
    branch = make_branch(fresh_services)
    cpu_rule(fresh_services, branch)
    with webhook_receiver() as hook, smtp_server() as mailbox:
        monkeypatch.setenv("ARGOS_SMTP_URL", mailbox.url)
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "webhook", hook.url)
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "email", "ops@example.com")
        server = ServerThread(fresh_database_url, FAST).start()
        try:
            agent = enroll(server, branch, fresh_services)
            post(server.url, agent, T0, 97.0)
            assert hook.received.wait(WAIT_S) and mailbox.received.wait(WAIT_S)
        finally:
            server.stop()
    [body] = hook.bodies
    assert (body["event"], body["agent_id"], body["value"], body["threshold"]) == (
        "alert.opened",
        agent.agent_uuid,
        97.0,
        90,
    )
    assert body["branch_org_id"] == branch.org_id
    [mail] = mailbox.messages
    assert mail["To"] == "ops@example.com" and "CRITICAL opened" in mail["Subject"]


def test_a_branch_falling_silent_is_one_message_from_the_absence_pass(
    fresh_database_url, fresh_services
):
    branch = make_branch(fresh_services)
    fresh_services.alerts.create_rule(ROOT, branch.org_id, condition="offline", severity="warning")
    with webhook_receiver() as hook:
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "webhook", hook.url)
        server = ServerThread(fresh_database_url, FAST).start()
        try:
            agents = [enroll(server, branch, fresh_services) for _ in range(3)]
            for agent in agents:
                post(server.url, agent, T0, 10.0)
            silence(fresh_services, [a.agent_uuid for a in agents], 3600)
            assert wait_until(lambda: all_sent(fresh_services), WAIT_S)
        finally:
            server.stop()
    [group] = hook.bodies
    assert group["event"] == "alert.opened" and group["count"] == 3
    assert sorted(a["agent_id"] for a in group["alerts"]) == sorted(a.agent_uuid for a in agents)


def test_a_receiver_down_for_a_while_gets_the_alert_when_it_is_back(
    fresh_database_url, fresh_services
):
    branch = make_branch(fresh_services)
    cpu_rule(fresh_services, branch)
    port = free_port()
    fresh_services.alerts.create_channel(
        ROOT, branch.org_id, "webhook", f"http://127.0.0.1:{port}/hook"
    )
    server = ServerThread(fresh_database_url, FAST).start()
    try:
        agent = enroll(server, branch, fresh_services)
        post(server.url, agent, T0, 97.0)
        assert wait_until(lambda: [r.attempts for r in outbox(fresh_services)] == [1], WAIT_S)
        [row] = outbox(fresh_services)
        assert row.sent_at is None and "ConnectError" in row.last_error
        with webhook_receiver(port) as hook:  # retried after the 5 s backoff
            assert hook.received.wait(WAIT_S)
            assert wait_until(lambda: all_sent(fresh_services), WAIT_S)
    finally:
        server.stop()
    assert [b["event"] for b in hook.bodies] == ["alert.opened"]


def test_a_restart_sends_what_is_new_and_nothing_twice(fresh_database_url, fresh_services):
    branch = make_branch(fresh_services)
    cpu_rule(fresh_services, branch)
    with webhook_receiver() as hook:
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "webhook", hook.url)
        server = ServerThread(fresh_database_url, FAST).start()
        try:
            agent = enroll(server, branch, fresh_services)
            post(server.url, agent, T0, 97.0)
            assert wait_until(lambda: all_sent(fresh_services), WAIT_S)
        finally:
            server.stop()
        server = ServerThread(fresh_database_url, FAST).start()
        try:
            post(server.url, agent, T0 + 30, 20.0)
            assert wait_until(
                lambda: len(outbox(fresh_services)) == 2 and all_sent(fresh_services), WAIT_S
            )
        finally:
            server.stop()
    assert [b["event"] for b in hook.bodies] == ["alert.opened", "alert.resolved"]


def test_an_alert_nobody_acknowledges_is_told_again_and_an_acknowledged_one_is_not(
    fresh_database_url, fresh_services
):
    branch = make_branch(fresh_services)
    cpu_rule(fresh_services, branch)
    reminding = replace(FAST, alert_renotify_after_s=1.0)
    with webhook_receiver() as hook:
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "webhook", hook.url)
        server = ServerThread(fresh_database_url, reminding).start()
        try:
            agent = enroll(server, branch, fresh_services)
            post(server.url, agent, T0, 97.0)
            assert wait_until(
                lambda: sum(b.get("reminder", False) for b in hook.bodies) >= 1, WAIT_S
            )
            [alert] = fresh_services.alerts.list_alerts(ROOT).items
            fresh_services.alerts.acknowledge(ROOT, alert.id, "on it")
            assert wait_until(lambda: hook.bodies[-1]["event"] == "alert.acknowledged", WAIT_S)
            told = len(hook.bodies)
            post(server.url, agent, T0 + 30, 10.0)  # the next message is the resolution
            assert wait_until(lambda: len(hook.bodies) > told, WAIT_S)
        finally:
            server.stop()
    assert hook.bodies[0]["event"] == "alert.opened" and not hook.bodies[0].get("reminder")
    assert [b["event"] for b in hook.bodies[told:]] == ["alert.resolved"]


def test_two_servers_deliver_each_message_once(fresh_database_url, fresh_services):
    branch = make_branch(fresh_services)
    fresh_services.alerts.create_rule(ROOT, branch.org_id, condition="offline", severity="warning")
    with webhook_receiver() as hook:
        hook.answer_after_s = 1.0  # each server's passes come round during a send
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "webhook", hook.url)
        servers = [ServerThread(fresh_database_url, FAST).start() for _ in range(2)]
        try:
            agent = enroll(servers[0], branch, fresh_services)
            post(servers[1].url, agent, T0, 10.0)
            silence(fresh_services, [agent.agent_uuid], 3600)
            assert wait_until(lambda: all_sent(fresh_services), WAIT_S)
            post(servers[0].url, agent, T0 + 30, 10.0)
            assert wait_until(
                lambda: len(outbox(fresh_services)) == 2 and all_sent(fresh_services), WAIT_S
            )
            holder = Lease(fresh_services.engine, DELIVERY_JOB, "", timedelta(0)).holder()
            assert holder is not None
            owners = {s.runtime.delivery.lease.owner for s in servers}
            assert holder.owner in owners
        finally:
            for server in servers:
                server.stop()
    assert [b["event"] for b in hook.bodies] == ["alert.opened", "alert.resolved"]
    assert len(fresh_services.alerts.list_alerts(ROOT, active=False).items) == 1


def test_argos_ingest_with_two_processes_notifies_once_and_stops_on_sigterm(
    fresh_database_url, fresh_services
):
    branch = make_branch(fresh_services)
    cpu_rule(fresh_services, branch)
    with webhook_receiver() as hook, smtp_server() as mailbox:
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "webhook", hook.url)
        fresh_services.alerts.create_channel(ROOT, branch.org_id, "email", "ops@example.com")
        server = ingest(
            "--database-url",
            fresh_database_url,
            "--port",
            "0",
            "--processes",
            "2",
            "--agent-rate",
            "0",
            env=environment(ARGOS_SMTP_URL=mailbox.url),
        )
        try:
            url = listening_url(server.first_line(PROCESS_WAIT_S))
            server.wait_for(
                lambda: request(url, "GET", "/healthz").status == 200, 20, "/healthz answers"
            )
            agent = enroll_http(url, branch, fresh_services)
            post(url, agent, T0, 97.0)
            server.wait_for(hook.received.is_set, WAIT_S, "the webhook receives the alert")
            post(url, agent, T0 + 30, 20.0)
            server.wait_for(
                lambda: len(outbox(fresh_services)) == 4 and all_sent(fresh_services),
                WAIT_S,
                "all sent",
            )
            code = server.terminate(PROCESS_WAIT_S)
        finally:
            server.kill()
    assert code == 0, server.report()
    assert [b["event"] for b in hook.bodies] == ["alert.opened", "alert.resolved"]
    assert len(mailbox.messages) == 2
    assert "/hook" not in server.stderr  # a webhook URL can hold a token: never logged


def test_the_alert_jobs_stop_promptly_while_the_database_does_not_answer(
    db_backend, fresh_database_url, fresh_services
):
    if db_backend != "mysql":
        pytest.skip("stalling the connection needs a network database; SQLite is a local file")
    proxy, proxied = TcpProxy.before_database(fresh_database_url)
    branch = make_branch(fresh_services)
    fresh_services.alerts.create_rule(ROOT, branch.org_id, condition="offline", severity="warning")
    server = ServerThread(proxied, FAST).start()
    try:
        runtime = server.runtime
        assert wait_until(lambda: runtime.absence.passes and runtime.delivery.passes, WAIT_S)
        proxy.stall()
        passes = (runtime.absence.passes, runtime.delivery.passes)
        # Each job is now inside a pass that waits on the database, or starting one.
        assert not wait_until(
            lambda: (runtime.absence.passes, runtime.delivery.passes) != passes, 1
        )
        server.call(
            lambda: asyncio.gather(runtime.absence.stop(), runtime.delivery.stop()),
            timeout=STOP_TIMEOUT_S + 10,
        )
        proxy.restore()
    finally:
        proxy.close()
        server.stop()


def test_argos_ingest_refuses_a_bad_smtp_url_or_renotify_interval_in_one_line(
    fresh_database_url,
):
    bad_smtp = ingest(
        "--database-url",
        fresh_database_url,
        "--port",
        "0",
        env=environment(ARGOS_SMTP_URL="http://mail.example.com"),
    )
    bad_interval = ingest("--database-url", fresh_database_url, "--renotify-after", "soon")
    assert (bad_smtp.wait(PROCESS_WAIT_S), bad_interval.wait(PROCESS_WAIT_S)) == (1, 2)
    assert bad_smtp.stderr.strip() == (
        "argos-ingest: ARGOS_SMTP_URL must look like smtp://[user:pass@]host:port or smtps://host:port."
    )
    assert (
        bad_interval.stderr.count("\n") == 1 and "'soon' is not a duration" in bad_interval.stderr
    )
