"""The absence pass in the server: offline and overdue rules checked against ``last_seen``
every few seconds (``argos_core.alerts.evaluation.absence_pass``), by one process at a time
under the ``alerts.absence`` lease.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argos_core.alerts.evaluation import absence_pass
from argos_core.settings import StatusPolicy
from ingest_server.jobs.leased_loop import LeasedLoop

ABSENCE_JOB = "alerts.absence"
LEASE_TTL = timedelta(seconds=60)


def absence_job(
    engine: Engine,
    session_factory: sessionmaker[Session],
    policy: StatusPolicy,
    *,
    interval_s: float,
    hold: timedelta = timedelta(0),
) -> LeasedLoop:
    return LeasedLoop(
        engine,
        ABSENCE_JOB,
        lambda _keep_alive: absence_pass(session_factory, policy, hold=hold),
        interval_s=interval_s,
        lease_ttl=LEASE_TTL,
    )
