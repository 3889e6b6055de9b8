"""Run blocking service calls off the GUI thread and deliver the result by signal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class WorkerSignals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """Calls ``fn()`` on a pool thread; emits ``succeeded(result)`` or ``failed(exception)``.

    The signals object lives on the thread that created the worker (the GUI thread), so
    connected slots run there.
    """

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._fn = fn
        self.signals = WorkerSignals()

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # delivered to the GUI, which shows it; never lost
            self._emit(self.signals.failed, exc)
        else:
            self._emit(self.signals.succeeded, result)
        self._emit(self.signals.finished)

    @staticmethod
    def _emit(signal, *args) -> None:
        # RuntimeError: the application is shutting down and nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            signal.emit(*args)


# Workers stay referenced until their result has reached the GUI thread: otherwise Python
# could collect the signals object while a queued result is still on its way.
_in_flight: set[Worker] = set()


def run_in_pool(
    fn: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_failure: Callable[[BaseException], None] | None = None,
    pool: QThreadPool | None = None,
) -> Worker:
    worker = Worker(fn)
    worker.signals.succeeded.connect(on_success)
    if on_failure is not None:
        worker.signals.failed.connect(on_failure)
    worker.signals.finished.connect(lambda: _in_flight.discard(worker))
    _in_flight.add(worker)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def workers_in_flight() -> int:
    """How many started workers have not yet delivered their result (tests wait for 0)."""
    return len(_in_flight)
