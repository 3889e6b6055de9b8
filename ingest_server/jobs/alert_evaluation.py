"""Threshold evaluation beside the group-commit writer.

After each commit the writer hands over the rows it wrote (``offer``, on the event loop: it
only keeps the newest row per agent in a dict, no I/O). A task wakes every
``interval_s``, swaps the dict out and evaluates it on its own thread, never on the
writer's thread or a request thread. Evaluation reads what it needs from the database, so
a sample offered while a pass runs waits for the next pass, and one dropped by a crash is
covered by the agent's next sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from operator import itemgetter

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from argos_core.alerts.evaluation import ThresholdEvaluator
from argos_core.errors import ArgosError
from ingest_server.jobs.daemon_executor import DaemonExecutor

log = logging.getLogger(__name__)
_TS = itemgetter(1)
STOP_TIMEOUT_S = 5.0


class ThresholdEvaluationJob:
    def __init__(self, session_factory: sessionmaker[Session], *, interval_s: float = 0.5):
        self.evaluator = ThresholdEvaluator(session_factory)
        self._interval_s = interval_s
        self._pending: dict[int, tuple[tuple, list[tuple]]] = {}
        self._thread = DaemonExecutor("argos-alerts")
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def offer(self, committed: Sequence[list[tuple]]) -> None:
        """Rows just committed, one list per request (``telemetry_store.COLUMNS`` order):
        each agent's newest row is kept, with the rows of its request (a reference)."""
        pending = self._pending
        for rows in committed:
            newest = max(rows, key=_TS)
            held = pending.get(newest[0])
            if held is None or held[0][1] <= newest[1]:
                pending[newest[0]] = (newest, rows)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Evaluate what was offered so far, then stop; a pass blocked longer than
        ``timeout_s`` (on a database that does not answer) is left behind on its daemon
        thread, so the server still stops (the samples are stored; the agents' next
        samples are evaluated by the next server)."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
            except TimeoutError:
                log.warning("Alert evaluation did not end within %.0f s; leaving it", timeout_s)
                self._task.cancel()
            except asyncio.CancelledError:
                pass
        self._thread.shutdown(wait=False)

    def _evaluate(self, batch: dict[int, tuple[tuple, list[tuple]]]) -> None:
        self.evaluator.evaluate(
            {agent: newest for agent, (newest, _) in batch.items()},
            recent={agent: rows for agent, (_, rows) in batch.items()},
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending:
                batch, self._pending = self._pending, {}
                try:
                    await loop.run_in_executor(self._thread, self._evaluate, batch)
                except (DBAPIError, ArgosError) as exc:
                    log.warning("Alert evaluation failed: %s", str(exc).splitlines()[0])
                except Exception:  # the job must outlive any one bad pass
                    log.exception("Alert evaluation failed")
            if self._stop.is_set() and not self._pending:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)
