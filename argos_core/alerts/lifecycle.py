"""Opening, resolving, acknowledging and reminding: each change and its outbox rows in one
transaction (the caller's session; the caller commits).

Notifications name the nodes and the agent as the webhook contract says (PROTOCOL.md,
"Alert notifications"); the payload is fixed when the event happens, so a later rename
does not rewrite what an alert said.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from argos_core.alerts.rules import SEVERITY_RANK, RuleSpec
from argos_core.models import (
    Agent,
    Alert,
    Branch,
    Company,
    NotificationOutbox,
    NotifyChannel,
    Tenant,
)

OPENED = "alert.opened"
RESOLVED = "alert.resolved"
ACKNOWLEDGED = "alert.acknowledged"


def open_key(rule_id: int, agent_id: int) -> str:
    return f"{rule_id}:{agent_id}"


def describe(spec: RuleSpec) -> str:
    if spec.condition != "threshold":
        return spec.condition + (f" for {spec.for_s}s" if spec.for_s else "")
    text = f"{spec.metric} {spec.comparison} {spec.threshold:g}"
    if spec.for_s:
        return f"{text} for {spec.for_s}s"
    return f"{text} for {spec.samples} samples" if spec.samples > 1 else text


def open_alert(
    session: Session, spec: RuleSpec, agent: Agent, value: float | None, now: datetime
) -> Alert | None:
    """Open an alert unless one is already open for this rule and agent (here or elsewhere:
    the unique ``open_key`` decides between processes)."""
    alert = Alert(
        rule_id=spec.root_id,
        agent_id=agent.id,
        tenant_id=agent.tenant_id,
        company_id=agent.company_id,
        branch_id=agent.branch_id,
        open_key=open_key(spec.root_id, agent.id),
        state="open",
        condition=spec.condition,
        severity=spec.severity,
        rule_text=describe(spec),
        metric=spec.metric,
        threshold=spec.threshold,
        value=value,
        opened_at=now,
        notified_at=now,
    )
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        return None
    enqueue(session, alert, OPENED, now)
    return alert


def resolve_alert(session: Session, alert: Alert, value: float | None, now: datetime) -> None:
    alert.state = "resolved"
    alert.open_key = None
    alert.resolved_at = now
    if value is not None:
        alert.value = value
    session.flush()
    enqueue(session, alert, RESOLVED, now)


def acknowledge(
    session: Session,
    alert: Alert,
    who: str,
    comment: str,
    until: datetime | None,
    now: datetime,
) -> None:
    alert.state = "acknowledged"
    alert.acked_by = who
    alert.acked_at = now
    alert.ack_comment = comment
    alert.acked_until = until
    session.flush()
    enqueue(session, alert, ACKNOWLEDGED, now)


def remind_unacknowledged(session: Session, now: datetime, every: timedelta) -> int:
    """Notify again about alerts still open (or whose acknowledgement ran out) after
    ``every`` without a notification; returns how many."""
    cutoff = now - every
    due = session.scalars(
        select(Alert)
        .where(
            Alert.open_key.is_not(None),
            Alert.notified_at < cutoff,
            or_(
                Alert.state == "open",
                (Alert.state == "acknowledged") & (Alert.acked_until < now),
            ),
        )
        .limit(1000)
    ).all()
    for alert in due:
        alert.state = "open"
        alert.notified_at = now
        enqueue(session, alert, OPENED, now, reminder=True)
    return len(due)


def enqueue(session: Session, alert: Alert, event: str, now: datetime, **extra: Any) -> int:
    """Outbox rows for every channel on the alert's nodes that takes its severity."""
    channels = session.scalars(
        select(NotifyChannel).where(
            NotifyChannel.tenant_id == alert.tenant_id,
            or_(NotifyChannel.company_id.is_(None), NotifyChannel.company_id == alert.company_id),
            or_(NotifyChannel.branch_id.is_(None), NotifyChannel.branch_id == alert.branch_id),
            or_(NotifyChannel.agent_id.is_(None), NotifyChannel.agent_id == alert.agent_id),
        )
    ).all()
    wanted = [c for c in channels if SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[c.min_severity]]
    if not wanted:
        return 0
    body = payload(session, alert, event, **extra)
    for channel in wanted:
        session.add(
            NotificationOutbox(
                alert_id=alert.id,
                channel_id=channel.id,
                event=event,
                payload=body,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return len(wanted)


def payload(session: Session, alert: Alert, event: str, **extra: Any) -> dict[str, Any]:
    row = session.execute(
        select(
            Agent.uuid,
            Agent.hostname,
            Tenant.name,
            Tenant.org_id,
            Company.name,
            Company.org_id,
            Branch.name,
            Branch.org_id,
        )
        .join(Tenant, Tenant.id == Agent.tenant_id)
        .join(Company, Company.id == Agent.company_id)
        .join(Branch, Branch.id == Agent.branch_id)
        .where(Agent.id == alert.agent_id)
    ).one()
    body: dict[str, Any] = {
        "event": event,
        "alert_id": alert.id,
        "severity": alert.severity,
        "rule": alert.rule_text,
        "rule_id": alert.rule_id,
        "condition": alert.condition,
        "metric": alert.metric,
        "value": alert.value,
        "threshold": alert.threshold,
        "agent_id": row[0],
        "hostname": row[1],
        "tenant": row[2],
        "tenant_org_id": row[3],
        "company": row[4],
        "company_org_id": row[5],
        "branch": row[6],
        "branch_org_id": row[7],
        "opened_at": alert.opened_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }
    if event == ACKNOWLEDGED:
        body.update(
            acknowledged_by=alert.acked_by,
            comment=alert.ack_comment,
            acknowledged_until=alert.acked_until.isoformat() if alert.acked_until else None,
        )
    body.update(extra)
    return body
