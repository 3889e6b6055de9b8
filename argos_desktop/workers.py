"""Run blocking service calls off the GUI thread and deliver the result by signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class WorkerSignals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class Worker(QRunnable):
    """Calls ``fn()`` on a pool thread; emits ``succeeded(result)`` or ``failed(exception)``.

    The signals object lives on the thread that created the worker (the GUI thread), so
    connected slots run there.
    """

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn
        self.signals = WorkerSignals()

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # delivered to the GUI, which shows it; never lost
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)


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
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
