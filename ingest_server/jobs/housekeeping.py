"""Telemetry housekeeping in the server: every few minutes each process tries to claim the
``telemetry.housekeep`` lease; the one that wins runs a pass on its own thread (never the
request threads or the writer's), paced (it rests ``sleep_coef`` times as long as each of
its transactions took) and renewing the lease as it goes, then lets it go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from argos_core.housekeeping import (
    DEFAULT_SLEEP_COEF,
    HOUSEKEEPING_JOB,
    HousekeepingReport,
    Retention,
    housekeep,
)
from argos_core.leases import Lease, LeaseLost, new_owner
from argos_core.pass_pace import PassPace

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(minutes=10)


class HousekeepingJob:
    def __init__(
        self,
        engine: Engine,
        *,
        interval_s: float = 300.0,
        retention: Retention | None = None,
        lease_ttl: timedelta = LEASE_TTL,
        sleep_coef: float = DEFAULT_SLEEP_COEF,
    ) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._retention = retention or Retention()
        self._sleep_coef = sleep_coef
        self.lease = Lease(engine, HOUSEKEEPING_JOB, new_owner("argos-ingest"), lease_ttl)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="argos-housekeeping")
        self._stop = asyncio.Event()
        self._stopping = threading.Event()  # the same, for the pass's thread
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop waiting for the next pass; a pass under way ends at its next step."""
        self._stop.set()
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._thread.shutdown(wait=True)

    def run_once(self) -> HousekeepingReport | None:
        """One pass if this process wins the lease, else None. Blocking."""
        if not self.lease.claim():
            return None
        try:
            pace = PassPace(self._keep_alive, sleep_coef=self._sleep_coef, stop=self._stopping)
            return housekeep(self._engine, self._retention, pace=pace)
        finally:
            self.lease.release()

    def _keep_alive(self) -> None:
        if self._stopping.is_set():
            raise LeaseLost("The server is stopping.")
        self.lease.renew()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)
            if self._stop.is_set():
                return
            try:
                report = await loop.run_in_executor(self._thread, self.run_once)
            except LeaseLost as exc:
                log.warning("Housekeeping stopped: %s", exc)
            except DBAPIError as exc:
                log.warning("Housekeeping failed, will retry: %s", str(exc).splitlines()[0])
            else:
                if report is not None:
                    log.info(
                        "Housekeeping: %d hours rolled, %d late agent-hours, %d partitions"
                        " dropped%s, %.2f s (%.2f s of it resting)",
                        report.hours_rolled,
                        report.late_agent_hours,
                        len(report.partitions_dropped),
                        " (partition changes put off: the table was busy)"
                        if report.partitions_put_off
                        else "",
                        report.seconds,
                        report.rested_seconds,
                    )
