"""Delivering the notification outbox: reminders for alerts left unacknowledged, then each
due message through its sender, and what became of it written back (``argos_core.alerts.
outbox``). The server runs a pass every second under the ``alerts.deliver`` lease, so one
process at a time delivers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argos_core.alerts import lifecycle, outbox
from argos_core.models import utcnow
from ingest_server.jobs.alert_senders import EmailSender, SmtpSettings, WebhookSender
from ingest_server.jobs.leased_loop import LeasedLoop

log = logging.getLogger(__name__)
DELIVERY_JOB = "alerts.deliver"
LEASE_TTL = timedelta(seconds=60)  # longer than one send can take (a 10 s timeout)


def _nothing() -> None:
    return None


class Delivery:
    """One delivery pass: reminders, then every due outbox message through its sender."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        renotify_after: timedelta | None,
        smtp: SmtpSettings | None,
        group_window: timedelta = timedelta(0),
    ) -> None:
        self._sf = session_factory
        self._group_window = group_window
        self._renotify_after = renotify_after
        self._webhooks = WebhookSender()
        self._senders = {"webhook": self._webhooks, "email": EmailSender(smtp)}

    def run(self, keep_alive: Callable[[], None] = _nothing, now: datetime | None = None) -> int:
        """Returns how many messages were taken by their receivers."""
        now = now or utcnow()
        if self._renotify_after is not None:
            with self._sf() as session:
                lifecycle.remind_unacknowledged(session, now, self._renotify_after)
                session.commit()
        results: list[outbox.Result] = []
        try:
            for message in outbox.take_due(self._sf, now, self._group_window):
                keep_alive()
                error = self._senders[message.channel_kind].send(message)
                if error:
                    log.warning("Notification to %s failed: %s", message.channel_kind, error)
                results.append(outbox.Result(message.row_ids, error))
        finally:  # what went out is marked sent even when the pass is cut short
            outbox.record(self._sf, results, now)
        return sum(1 for r in results if r.error is None)

    def close(self) -> None:
        self._webhooks.close()


def delivery_job(
    engine: Engine,
    session_factory: sessionmaker[Session],
    *,
    interval_s: float,
    renotify_after: timedelta | None,
    smtp: SmtpSettings | None,
    group_window: timedelta,
) -> LeasedLoop:
    """The server's delivery loop: a pass every ``interval_s`` in one process at a time."""
    delivery = Delivery(
        session_factory, renotify_after=renotify_after, smtp=smtp, group_window=group_window
    )
    return LeasedLoop(
        engine,
        DELIVERY_JOB,
        lambda keep_alive: delivery.run(keep_alive),
        interval_s=interval_s,
        lease_ttl=LEASE_TTL,
        close=delivery.close,
    )
