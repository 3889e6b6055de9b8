"""Opening, resolving, acknowledging and reminding: each change and its outbox rows in one
transaction (the caller's session; the caller commits).

Notifications name the nodes and the agent as the webhook contract says (PROTOCOL.md,
"Alert notifications"); the payload is fixed when the event happens, so a later rename
does not rewrite what an alert said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert, or_, select, update
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
NO_HOLD = timedelta(0)
IDS_PER_QUERY = 1000


def open_key(rule_id: int, agent_id: int) -> str:
    return f"{rule_id}:{agent_id}"


def describe(spec: RuleSpec) -> str:
    if spec.condition != "threshold":
        return spec.condition + (f" for {spec.for_s}s" if spec.for_s else "")
    text = f"{spec.metric} {spec.comparison} {spec.threshold:g}"
    if spec.for_s:
        return f"{text} for {spec.for_s}s"
    return f"{text} for {spec.samples} samples" if spec.samples > 1 else text


class Placed(Protocol):
    """An agent's id and ancestry: an ``Agent`` or a row of those columns."""

    id: int
    tenant_id: int
    company_id: int
    branch_id: int


@dataclass(frozen=True)
class AlertRow:
    """An alert opened or resolved in bulk: its columns as plain values (what notifications
    read), without an ORM object per row."""

    id: int
    rule_id: int
    agent_id: int
    tenant_id: int
    company_id: int
    branch_id: int
    open_key: str | None
    state: str
    condition: str
    severity: str
    rule_text: str
    metric: str | None
    threshold: float | None
    value: float | None
    opened_at: datetime
    notified_at: datetime | None
    resolved_at: datetime | None = None
    acked_by: str | None = None
    ack_comment: str | None = None
    acked_until: datetime | None = None


ROW_COLUMNS = tuple(getattr(Alert, f.name) for f in fields(AlertRow))
Notified = Alert | AlertRow  # what outbox rows are written for


def _alert_columns(
    spec: RuleSpec, agent: Placed, value: float | None, now: datetime
) -> dict[str, Any]:
    return {
        "rule_id": spec.root_id,
        "agent_id": agent.id,
        "tenant_id": agent.tenant_id,
        "company_id": agent.company_id,
        "branch_id": agent.branch_id,
        "open_key": open_key(spec.root_id, agent.id),
        "state": "open",
        "condition": spec.condition,
        "severity": spec.severity,
        "rule_text": describe(spec),
        "metric": spec.metric,
        "threshold": spec.threshold,
        "value": value,
        "opened_at": now,
        "notified_at": now,
    }


def open_alert(
    session: Session,
    spec: RuleSpec,
    agent: Placed,
    value: float | None,
    now: datetime,
    hold: timedelta = NO_HOLD,
) -> Alert | None:
    """Open an alert unless one is already open for this rule and agent (here or elsewhere:
    the unique ``open_key`` decides between processes)."""
    alert = Alert(**_alert_columns(spec, agent, value, now))
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        return None
    enqueue(session, [alert], OPENED, now, hold)
    return alert


def open_alerts(
    session: Session,
    wanted: list[tuple[RuleSpec, Placed]],
    now: datetime,
    hold: timedelta = NO_HOLD,
) -> Sequence[Notified]:
    """Open many alerts with one multi-row insert (a branch going down), their outbox rows
    with another, both in the caller's transaction; should one of them be open already
    (another process got there first: the unique ``open_key``), each is opened on its own
    instead. ``hold`` delays their notifications, so that agents of a branch that fall
    silent over a report interval (one absence pass after another) still go out as one
    message."""
    if not wanted:
        return []
    rows = [_alert_columns(spec, agent, None, now) for spec, agent in wanted]
    try:
        with session.begin_nested():
            session.execute(insert(Alert), rows)
    except IntegrityError:
        opened = [open_alert(session, spec, agent, None, now, hold) for spec, agent in wanted]
        return [a for a in opened if a is not None]
    ids = _ids_by_open_key(session, [row["open_key"] for row in rows])
    alerts = [AlertRow(id=ids[row["open_key"]], **row) for row in rows]
    enqueue(session, alerts, OPENED, now, hold)
    return alerts


def _ids_by_open_key(session: Session, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), IDS_PER_QUERY):
        chunk = keys[start : start + IDS_PER_QUERY]
        found.update(
            (key, ident)
            for key, ident in session.execute(
                select(Alert.open_key, Alert.id).where(Alert.open_key.in_(chunk))
            )
        )
    return found


def resolve_alerts(
    session: Session,
    alerts: list[Alert],
    now: datetime,
    value: float | None = None,
    hold: timedelta = NO_HOLD,
) -> None:
    for alert in alerts:
        alert.state = "resolved"
        alert.open_key = None
        alert.resolved_at = now
        if value is not None:
            alert.value = value
    session.flush()
    enqueue(session, alerts, RESOLVED, now, hold)


def resolve_by_id(
    session: Session, ids: Sequence[int], now: datetime, hold: timedelta = NO_HOLD
) -> list[int]:
    """Resolve these alerts (those still open) with one UPDATE per thousand, and write their
    outbox rows, in the caller's transaction: plain rows, no ORM object per alert."""
    resolved: list[int] = []
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        rows = session.execute(
            select(*ROW_COLUMNS).where(Alert.id.in_(chunk), Alert.open_key.is_not(None))
        ).all()
        if not rows:
            continue
        session.execute(
            update(Alert)
            .where(Alert.id.in_([r.id for r in rows]))
            .values(state="resolved", open_key=None, resolved_at=now)
            .execution_options(synchronize_session=False)
        )
        alerts = [
            AlertRow(**{**r._asdict(), "state": "resolved", "open_key": None, "resolved_at": now})
            for r in rows
        ]
        enqueue(session, alerts, RESOLVED, now, hold)
        resolved.extend(a.id for a in alerts)
    return resolved


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
    enqueue(session, [alert], ACKNOWLEDGED, now)


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
    enqueue(session, list(due), OPENED, now, reminder=True)
    return len(due)


def enqueue(
    session: Session,
    alerts: Sequence[Notified],
    event: str,
    now: datetime,
    hold: timedelta = NO_HOLD,
    **extra: Any,
) -> int:
    """Outbox rows for every channel on each alert's nodes that takes its severity, due
    after ``hold``."""
    if not alerts:
        return 0
    channels = session.scalars(
        select(NotifyChannel).where(NotifyChannel.tenant_id.in_({a.tenant_id for a in alerts}))
    ).all()
    rows: list[dict[str, Any]] = []
    wanted = {a.id: [c for c in channels if _takes(c, a)] for a in alerts}
    facts = _facts(session, [a.agent_id for a in alerts if wanted[a.id]])
    for alert in alerts:
        if not wanted[alert.id]:
            continue
        body = payload(alert, event, facts[alert.agent_id], **extra)
        rows.extend(
            {
                "alert_id": alert.id,
                "channel_id": channel.id,
                "event": event,
                "payload": body,
                "created_at": now,
                "next_attempt_at": now + hold,
                "attempts": 0,
                "outcome": "",
                "last_error": "",
            }
            for channel in wanted[alert.id]
        )
    if rows:
        session.execute(insert(NotificationOutbox), rows)
    return len(rows)


def _takes(channel: NotifyChannel, alert: Notified) -> bool:
    return (
        channel.tenant_id == alert.tenant_id
        and channel.company_id in (None, alert.company_id)
        and channel.branch_id in (None, alert.branch_id)
        and channel.agent_id in (None, alert.agent_id)
        and SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[channel.min_severity]
    )


def _facts(session: Session, agent_ids: list[int]) -> dict[int, tuple]:
    """Per agent: uuid, hostname and the names and org ids of its tenant, company, branch."""
    found: dict[int, tuple] = {}
    unique = sorted(set(agent_ids))
    for start in range(0, len(unique), 1000):
        rows = session.execute(
            select(
                Agent.id,
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
            .where(Agent.id.in_(unique[start : start + 1000]))
        )
        found.update((row[0], tuple(row[1:])) for row in rows)
    return found


def payload(alert: Notified, event: str, row: tuple, **extra: Any) -> dict[str, Any]:
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
