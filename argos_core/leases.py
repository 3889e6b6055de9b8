"""Lease rows in ``jobs``: a job that must run once across processes and hosts claims one.

Claiming is a single conditional ``UPDATE`` (``... WHERE name = ? AND until < now``): the
database decides the winner, on MySQL, Galera and SQLite alike (``GET_LOCK`` and file locks
are neither replicated nor shared between hosts). A holder renews while it works; if it dies
the lease runs out and another process takes over. Two claims made on different Galera nodes
at once meet at certification: the loser's commit fails (1213) and its claim runs again,
finding the lease taken.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from argos_core.models import Job, utcnow
from argos_core.transactions import retrying

EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


class LeaseLost(Exception):
    """Another process holds the lease now: stop working on the job."""


@dataclass(frozen=True)
class Holder:
    owner: str
    until: datetime


def new_owner(label: str = "") -> str:
    """A unique owner name that still tells people where it runs."""
    tag = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return f"{label}@{tag}"[:128] if label else tag[:128]


class Lease:
    def __init__(self, engine: Engine, name: str, owner: str, ttl: timedelta) -> None:
        self._engine = engine
        self.name = name
        self.owner = owner
        self.ttl = ttl

    @retrying(idempotent=True)
    def claim(self, now: datetime | None = None) -> bool:
        """Take the lease if it is free (expired) or push it further if this owner holds it
        already; True when this owner holds it now.

        A read comes first: while another owner's lease runs, or this owner's has more than
        half its time left, nothing is written. Jobs claim every few seconds in every
        process; on SQLite each write would end the snapshot of every transaction that read
        before it and wants to write after (they fail at once with "database is locked").
        """
        now = now or utcnow()
        held = self.holder()
        if held is None:
            self._ensure_row()
        elif held.owner != self.owner and held.until > now:
            return False
        elif held.owner == self.owner and held.until - now > self.ttl / 2:
            return True
        with self._engine.begin() as conn:
            won = conn.execute(
                update(Job)
                .where(Job.name == self.name, (Job.until < now) | (Job.owner == self.owner))
                .values(owner=self.owner, until=now + self.ttl)
            ).rowcount
        return won == 1

    @retrying(idempotent=True)
    def renew(self, now: datetime | None = None) -> None:
        """Push the lease further while working; ``LeaseLost`` if someone else took it."""
        now = now or utcnow()
        with self._engine.begin() as conn:
            kept = conn.execute(
                update(Job)
                .where(Job.name == self.name, Job.owner == self.owner)
                .values(until=now + self.ttl)
            ).rowcount
        if kept != 1:
            raise LeaseLost(f"The lease on '{self.name}' was taken over.")

    @retrying(idempotent=True)
    def release(self) -> None:
        """Let others claim it at once (only if this owner still holds it)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(Job)
                .where(Job.name == self.name, Job.owner == self.owner)
                .values(owner="", until=EPOCH)
            )

    def holder(self) -> Holder | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(Job.owner, Job.until).where(Job.name == self.name)).first()
        return Holder(row.owner, row.until) if row and row.owner else None

    def _ensure_row(self) -> None:
        with self._engine.connect() as conn:
            if conn.scalar(select(Job.name).where(Job.name == self.name)) is not None:
                return
        try:
            with self._engine.begin() as conn:
                conn.execute(Job.__table__.insert().values(name=self.name, owner="", until=EPOCH))
        except IntegrityError:
            pass  # another process created it first
