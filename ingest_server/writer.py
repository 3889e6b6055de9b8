"""The group-commit writer.

Requests hand their validated rows to ``GroupCommitWriter.submit`` and wait. One loop task
gathers the rows of many requests, and a single worker thread writes them with multi-row
``INSERT``s and moves ``last_seen`` forward, all in one transaction; only after the commit is
each request's future resolved. A flush starts when ``max_batch_rows`` are waiting or the
oldest waiting request is ``max_delay_s`` old, whichever comes first.

Idempotence: rows are inserted with ``INSERT IGNORE``; when the database reports fewer new
rows than were sent, the batch is rolled back and redone after looking up which keys exist,
so each request learns exactly how many of its samples were duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from argos_core import transactions
from argos_core.db import max_write_set_rows
from argos_core.errors import DatabaseUnavailable
from argos_core.models import utcnow
from argos_core.telemetry_store import (
    OutOfRange,
    existing_keys,
    insert_tuples,
    touch_last_seen,
    usable_agent_epochs,
)
from argos_core.transactions import is_connection_error
from ingest_server.auth import SUPERSEDED
from ingest_server.health import DatabaseHealth
from ingest_server.metrics import IngestMetrics
from ingest_server.samples import InvalidBatch

log = logging.getLogger(__name__)

REVOKED = "This agent has been revoked or no longer exists."


class Overloaded(Exception):
    """The writer's queue is full; the client should retry later."""


class AgentGone(Exception):
    """The agent was revoked, deleted or enrolled again between authentication and the
    write."""


@dataclass(frozen=True)
class WriteResult:
    accepted: int
    duplicates: int


@dataclass
class _Submission:
    agent_id: int
    rows: list[tuple]
    future: asyncio.Future
    epoch: int | None = None  # the token's; None: not sent with an agent token (OTLP)
    queued_at: float = field(default_factory=time.monotonic)


class _MustRecount(Exception):
    pass


class GroupCommitWriter:
    def __init__(
        self,
        engine: Engine,
        health: DatabaseHealth,
        metrics: IngestMetrics,
        *,
        max_batch_rows: int = 5000,
        max_delay_s: float = 0.005,
        max_pending_rows: int = 100_000,
        on_commit: Callable[[Sequence[list[tuple]]], None] | None = None,
    ) -> None:
        """``on_commit`` gets the rows of each committed batch (one list per request), on the
        event loop: it must only take note of them (alert evaluation runs elsewhere)."""
        self._engine = engine
        self._on_commit = on_commit
        self._health = health
        self._metrics = metrics
        self._max_batch_rows = max_batch_rows
        self._max_delay_s = max_delay_s
        self._max_pending_rows = max_pending_rows
        self._queue: deque[_Submission] = deque()
        self._pending_rows = 0
        self._flushing_rows = 0
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="argos-writer")
        self._conn: Connection | None = None
        self._write_set_rows: int | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False

    @property
    def pending_rows(self) -> int:
        """Rows queued and not yet handed to the database."""
        return self._pending_rows

    @property
    def flushing_rows(self) -> int:
        """Rows in the transaction being written right now."""
        return self._flushing_rows

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._task.add_done_callback(self._ended)
        # Connect now, so that the first batch already knows the write-set limits.
        self._executor.submit(self._connect_quietly)

    def _connect_quietly(self) -> None:
        with contextlib.suppress(DBAPIError):
            self._connection()

    async def submit(
        self, agent_id: int, rows: list[tuple], epoch: int | None = None
    ) -> WriteResult:
        """Wait until ``rows`` are committed; raises ``Overloaded`` or ``DatabaseUnavailable``,
        or ``AgentGone`` if the agent is revoked, deleted, or (``epoch``: the token epoch the
        rows were sent with) has enrolled again since."""
        if self._stopping:
            raise Overloaded("The server is shutting down.")
        if not self._health.available:
            raise DatabaseUnavailable("The database is unavailable right now.")
        if self._pending_rows + len(rows) > self._max_pending_rows:
            raise Overloaded("The server is overloaded.")
        future = asyncio.get_running_loop().create_future()
        submission = _Submission(agent_id, rows, future, epoch)
        self._queue.append(submission)
        self._pending_rows += len(rows)
        self._metrics.queue_samples.set(self._pending_rows)
        if len(self._queue) == 1 or self._pending_rows >= self._max_batch_rows:
            self._wake.set()
        return await submission.future

    async def drain_and_stop(self) -> None:
        """Refuse new work, write everything already accepted, then stop the worker (without
        blocking the event loop on the worker thread)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._release_connection)
        self._executor.shutdown(wait=False)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._pending_rows < self._max_batch_rows and not self._stopping:
                wait = self._queue[0].queued_at + self._max_delay_s - time.monotonic()
                if wait > 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
                    continue
            await self._write_batch(loop, self._take_batch())

    async def _write_batch(self, loop: asyncio.AbstractEventLoop, batch: list[_Submission]) -> None:
        self._flushing_rows = sum(len(s.rows) for s in batch)
        self._metrics.flushing_samples.set(self._flushing_rows)
        try:
            results = await loop.run_in_executor(self._executor, self._flush, batch)
        except Exception as exc:  # every waiting request must hear back, whatever happened
            self._fail(batch, exc)
            return
        finally:
            self._flushing_rows = 0
            self._metrics.flushing_samples.set(0)
        self._health.mark_available()
        for submission, result in zip(batch, results, strict=True):
            if not submission.future.done():
                if isinstance(result, Exception):
                    submission.future.set_exception(result)
                else:
                    submission.future.set_result(result)
        if self._on_commit is not None:
            committed = [
                s.rows
                for s, r in zip(batch, results, strict=True)
                if isinstance(r, WriteResult) and r.accepted
            ]
            try:
                self._on_commit(committed)
            except Exception:  # the rows are stored and acknowledged; the writer goes on
                log.exception("The committed samples could not be handed on for alerting")

    def _ended(self, task: asyncio.Task) -> None:
        """Should the writer's task ever end by an error, nobody may wait for it forever."""
        if task.cancelled() or task.exception() is None:
            return
        log.critical("The telemetry writer stopped", exc_info=task.exception())
        self._stopping = True
        error = Overloaded("The samples could not be stored; retry later.")
        while self._queue:
            submission = self._queue.popleft()
            if not submission.future.done():
                submission.future.set_exception(error)
        self._pending_rows = 0
        self._metrics.queue_samples.set(0)

    def _take_batch(self) -> list[_Submission]:
        batch: list[_Submission] = []
        rows = 0
        limit = self._max_batch_rows
        while self._queue and (not batch or rows + len(self._queue[0].rows) <= limit):
            submission = self._queue.popleft()
            batch.append(submission)
            rows += len(submission.rows)
        self._pending_rows -= rows
        self._metrics.queue_samples.set(self._pending_rows)
        return batch

    def _fail(self, batch: list[_Submission], exc: Exception) -> None:
        self._metrics.flush_failures.inc()
        if is_connection_error(exc) or isinstance(exc, OperationalError | DatabaseUnavailable):
            self._health.mark_unavailable()
            error: Exception = DatabaseUnavailable("The database is unavailable right now.")
        else:
            log.exception("Writing telemetry failed", exc_info=exc)
            error = Overloaded("The samples could not be stored; retry later.")
        for submission in batch:
            if not submission.future.done():
                submission.future.set_exception(error)

    # --- worker thread -------------------------------------------------------------------

    def _flush(self, batch: list[_Submission]) -> list[WriteResult | Exception]:
        """Write ``batch`` in as few transactions as the Galera write-set limits allow."""
        results: list[WriteResult | Exception] = []
        for part in self._write_sets(batch):
            results += self._flush_part(part)
        return results

    def _write_sets(self, batch: list[_Submission]) -> list[list[_Submission]]:
        """``batch`` cut where a transaction would exceed ``max_write_set_rows`` (a sample
        and each agent's ``last_seen`` are a row each); one request's rows stay together."""
        cap = self._write_set_rows
        if cap is None:
            return [batch]
        parts: list[list[_Submission]] = [[]]
        rows = 0
        for submission in batch:
            cost = len(submission.rows) + 1
            if parts[-1] and rows + cost > cap:
                parts.append([])
                rows = 0
            parts[-1].append(submission)
            rows += cost
        return parts

    def _flush_part(self, batch: list[_Submission]) -> list[WriteResult | Exception]:
        started = time.perf_counter()
        try:
            results = self._write_retrying(batch)
        except (IntegrityError, DataError, OutOfRange) as exc:
            # One request's rows (or its agent, deleted meanwhile) spoil the batch: write
            # each request on its own so only the culprit is refused.
            if len(batch) == 1:
                return [_refusal(exc)]
            return [self._flush_one(s) for s in batch]
        self._metrics.flush_seconds.observe(time.perf_counter() - started)
        self._metrics.flush_rows.observe(sum(len(s.rows) for s in batch))
        return results

    def _flush_one(self, submission: _Submission) -> WriteResult | Exception:
        try:
            return self._write_retrying([submission])[0]
        except (IntegrityError, DataError, OutOfRange) as exc:
            return _refusal(exc)

    def _write_retrying(self, batch: list[_Submission]) -> list[WriteResult | Exception]:
        """Idempotent on ``(agent, ts)``: a batch whose commit was applied although the
        connection dropped is found stored on the next try and counted as duplicates."""
        return transactions.run(lambda: self._write(batch), what="telemetry flush", idempotent=True)

    def _write(self, batch: list[_Submission]) -> list[WriteResult | Exception]:
        conn = self._connection()
        try:
            try:
                with conn.begin():
                    results = self._write_in(conn, batch, recount=False)
            except _MustRecount:
                with conn.begin():
                    results = self._write_in(conn, batch, recount=True)
        except DBAPIError as exc:
            if is_connection_error(exc) or isinstance(exc, OperationalError):
                self._drop_connection()
            raise
        written = [r for r in results if isinstance(r, WriteResult)]
        self._metrics.samples_accepted.inc(sum(r.accepted for r in written))
        self._metrics.samples_duplicate.inc(sum(r.duplicates for r in written))
        return results

    def _connection(self) -> Connection:
        """The writer keeps one connection (no pool checkout and ping per flush); it is
        replaced after any error that may have broken it."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._engine.connect()
            with self._conn.begin():
                self._write_set_rows = max_write_set_rows(self._conn)
        return self._conn

    def _release_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):
                self._conn.close()
            self._conn = None

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None

    def _write_in(
        self, conn: Connection, batch: list[_Submission], *, recount: bool
    ) -> list[WriteResult | Exception]:
        """One transaction: move ``last_seen``, refuse revoked agents and superseded tokens,
        insert new rows.

        Checking revocation and token epochs here, in the writing transaction, makes them
        take effect at once however long the request path caches who an agent is (in this
        process or another). Both ride on the ``last_seen`` update, which only matches usable
        agents at their current epoch: only when it matches fewer rows than agents does a
        read find out which. The update comes first so that SQLite takes its write lock
        (waiting for it if need be) before reading.
        """
        agents = {s.agent_id for s in batch}
        epochs: dict[int, int] = {}
        for s in batch:
            if s.epoch is not None:
                epochs[s.agent_id] = max(s.epoch, epochs.get(s.agent_id, s.epoch))
        touched = touch_last_seen(conn, dict.fromkeys(agents, utcnow()), epochs)
        # All matched: each agent is usable at the highest epoch it was sent with here.
        usable = usable_agent_epochs(conn, agents) if touched < len(agents) else None
        refused = [_refusal_of(s, usable, epochs) for s in batch]
        keep: list[list[tuple]] = []
        seen: set[tuple[int, int]] = set()
        for submission, refusal in zip(batch, refused, strict=True):
            fresh = []
            if not refusal:
                for row in submission.rows:
                    key = (row[0], row[1])
                    if key not in seen:
                        seen.add(key)
                        fresh.append(row)
            keep.append(fresh)
        if recount:
            stored = existing_keys(conn, seen)
            keep = [[r for r in fresh if (r[0], r[1]) not in stored] for fresh in keep]
        rows = [row for fresh in keep for row in fresh]
        if insert_tuples(conn, rows) != len(rows) and not recount:
            raise _MustRecount
        return [
            AgentGone(refusal) if refusal else WriteResult(len(fresh), len(s.rows) - len(fresh))
            for s, fresh, refusal in zip(batch, keep, refused, strict=True)
        ]


def _refusal_of(
    submission: _Submission, usable: dict[int, int] | None, epochs: dict[int, int]
) -> str:
    """Why ``submission`` cannot be written ("" if it can), given the usable agents' token
    epochs (None: every agent in the batch is usable at its epoch in ``epochs``)."""
    if usable is not None and submission.agent_id not in usable:
        return REVOKED
    current = epochs.get(submission.agent_id) if usable is None else usable[submission.agent_id]
    if submission.epoch is not None and submission.epoch != current:
        return SUPERSEDED
    return ""


def _refusal(exc: DBAPIError | OutOfRange) -> Exception:
    if isinstance(exc, IntegrityError):
        return AgentGone(REVOKED)
    log.warning("The database refused a batch: %s", getattr(exc, "orig", exc))
    return InvalidBatch("The database refused these values.")
