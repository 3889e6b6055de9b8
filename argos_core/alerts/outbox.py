"""The notification outbox: which rows are due, grouped into messages, and what became of them.

Sending itself (SMTP, HTTP) is the delivery job's; here is only the database side, so the
job's pass is: ``take_due`` → send each ``Message`` → ``record``. A row is marked sent only
after its message was taken by the receiver: a crash in between sends it again (at least
once), never loses it.

Rows of one channel, event, rule and branch that are due together become one message (a
branch going down at once is one e-mail naming its agents, not one per agent).

Maintenance: a row whose alert's node is inside an open maintenance window waits until the
window closes; if by then the alert is resolved, its held rows are dropped as
``suppressed`` (a reboot inside its window tells nobody), otherwise they go out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from argos_core import transactions
from argos_core.alerts.maintenance import Schedule
from argos_core.models import Alert, MaintenanceWindow, NotificationOutbox, NotifyChannel, utcnow

BATCH = 500
BACKOFF_BASE_S = 5
BACKOFF_MAX_S = 3600


@dataclass(frozen=True)
class Message:
    row_ids: tuple[int, ...]
    channel_kind: str
    target: str
    event: str
    alerts: tuple[dict[str, Any], ...]

    @property
    def body(self) -> dict[str, Any]:
        """The webhook JSON: one alert as PROTOCOL.md says, or a group of them."""
        if len(self.alerts) == 1:
            return self.alerts[0]
        first = self.alerts[0]
        common = ("severity", "rule", "rule_id", "condition", "metric", "threshold")
        nodes = ("tenant", "tenant_org_id", "company", "company_org_id", "branch", "branch_org_id")
        return {
            "event": self.event,
            "group": True,
            "count": len(self.alerts),
            **{k: first.get(k) for k in (*common, *nodes)},
            "hostnames": [a["hostname"] for a in self.alerts],
            "alerts": list(self.alerts),
        }


@dataclass(frozen=True)
class Result:
    row_ids: tuple[int, ...]
    error: str | None = None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def take_due(
    session_factory: sessionmaker[Session],
    now: datetime | None = None,
    lookahead: timedelta = timedelta(0),
) -> list[Message]:
    """Due rows as messages; rows held by maintenance are postponed or suppressed here.

    Rows due within ``lookahead`` join a message of their group that is due now: alerts
    held for grouping (``lifecycle.open_alerts``) go out with the first of their group.
    """
    now = now or utcnow()
    with session_factory() as session:
        rows = session.scalars(
            select(NotificationOutbox)
            .where(
                NotificationOutbox.sent_at.is_(None),
                NotificationOutbox.next_attempt_at <= now + lookahead,
            )
            .order_by(NotificationOutbox.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return []
        alerts = _by_id(session, Alert, {r.alert_id for r in rows})
        channels = _by_id(session, NotifyChannel, {r.channel_id for r in rows})
        windows = MaintenanceCalendar(session.scalars(select(MaintenanceWindow)).all())
        groups: dict[tuple, list[NotificationOutbox]] = defaultdict(list)
        for row in rows:
            alert = alerts[row.alert_id]
            groups[(row.channel_id, row.event, alert.rule_id, alert.branch_id)].append(row)
        messages = []
        for members in groups.values():
            if all(row.next_attempt_at > now for row in members):
                continue
            ready = [row for row in members if _ready(row, alerts[row.alert_id], windows, now)]
            if ready:
                channel = channels[ready[0].channel_id]
                messages.append(
                    Message(
                        tuple(r.id for r in ready),
                        channel.kind,
                        channel.target,
                        ready[0].event,
                        tuple(r.payload for r in ready),
                    )
                )
        session.commit()
        return messages


def _ready(
    row: NotificationOutbox, alert: Alert, windows: MaintenanceCalendar, now: datetime
) -> bool:
    """Whether the row goes out now; one under maintenance waits for the window's end, or
    is suppressed when its alert opened and resolved inside the window."""
    window_end = windows.open_until(alert, now)
    if window_end is not None:
        row.next_attempt_at = window_end
        return False
    if alert.resolved_at is not None and windows.open_until(alert, row.created_at):
        row.sent_at, row.outcome = now, "suppressed"
        return False
    return True


def record(
    session_factory: sessionmaker[Session], results: list[Result], now: datetime | None = None
) -> None:
    """Write back what became of each message. The transaction writes before it reads: on
    SQLite a transaction that read first cannot take the write lock once another connection
    has written meanwhile ("database is locked" at once, not after the busy timeout), and a
    message sent but not recorded would be sent again."""
    now = now or utcnow()
    sent = [row_id for result in results if result.error is None for row_id in result.row_ids]
    failed = [result for result in results if result.error is not None]
    transactions.run(
        lambda: _record(session_factory, sent, failed, now), what="outbox record", idempotent=True
    )


def _record(
    session_factory: sessionmaker[Session], sent: list[int], failed: list[Result], now: datetime
) -> None:
    box = NotificationOutbox
    with session_factory() as session:
        if sent:
            session.execute(
                update(box)
                .where(box.id.in_(sent))
                .values(sent_at=now, outcome="sent", last_error="")
            )
        for result in failed:
            assert result.error is not None
            session.execute(
                update(box)
                .where(box.id.in_(result.row_ids))
                .values(attempts=box.attempts + 1, last_error=result.error[:500])
            )
            for row_id, attempts in session.execute(
                select(box.id, box.attempts).where(box.id.in_(result.row_ids))
            ):
                session.execute(
                    update(box)
                    .where(box.id == row_id)
                    .values(next_attempt_at=now + backoff(attempts))
                )
        session.commit()


class MaintenanceCalendar:
    """The maintenance windows, asked per alert whether one covers its agent at a moment."""

    def __init__(self, windows: list[MaintenanceWindow]) -> None:
        self._windows = [
            (w, Schedule(w.starts_local, w.timezone, w.duration_s, w.repeat))
            for w in windows  # type: ignore[arg-type]
        ]

    def open_until(self, alert: Alert, at: datetime) -> datetime | None:
        """The end of the latest-ending window open at ``at`` over the alert's agent."""
        ends = [
            occurrence[1]
            for window, schedule in self._windows
            if _covers(window, alert) and (occurrence := schedule.occurrence_at(at)) is not None
        ]
        return max(ends) if ends else None


def _covers(window: MaintenanceWindow, alert: Alert) -> bool:
    return (
        window.tenant_id == alert.tenant_id
        and window.company_id in (None, alert.company_id)
        and window.branch_id in (None, alert.branch_id)
        and window.agent_id in (None, alert.agent_id)
    )


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}
