"""Whether the database answers: set by the writer's outcomes and by a periodic probe.

While the database is marked unavailable, telemetry requests are refused at once with 503
instead of queueing behind a dead connection; the probe notices when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import Executor

from sqlalchemy import Engine

from ingest_server.metrics import IngestMetrics

log = logging.getLogger(__name__)


class DatabaseHealth:
    def __init__(
        self,
        engine: Engine,
        executor: Executor,
        metrics: IngestMetrics,
        *,
        probe_interval_s: float = 5.0,
        retry_interval_s: float = 0.5,
        probe_timeout_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._executor = executor
        self._metrics = metrics
        self._probe_interval_s = probe_interval_s
        self._retry_interval_s = retry_interval_s
        self._probe_timeout_s = probe_timeout_s
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self.available = True
        metrics.database_up.set(1)

    def mark_unavailable(self) -> None:
        if self.available:
            log.warning("The database is unavailable; refusing telemetry until it returns.")
        self.available = False
        self._metrics.database_up.set(0)
        self._wake.set()

    def mark_available(self) -> None:
        if not self.available:
            log.warning("The database is available again.")
        self.available = True
        self._metrics.database_up.set(1)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def probe(self) -> bool:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.run_in_executor(self._executor, self._ping), self._probe_timeout_s
            )
        except Exception:  # any failure to answer SELECT 1 means "unavailable"
            self.mark_unavailable()
            return False
        self.mark_available()
        return True

    def _ping(self) -> None:
        with self._engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    async def _run(self) -> None:
        while True:
            interval = self._probe_interval_s if self.available else self._retry_interval_s
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            if self._wake.is_set():
                await asyncio.sleep(self._retry_interval_s)
            await self.probe()
