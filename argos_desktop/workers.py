"""Blocking calls off the GUI thread, answers back on it: the one way the console does it.

A call runs on a ``QThreadPool`` thread. Its answer travels back through one long-lived
courier QObject that lives on the GUI thread (a queued signal), never through a short-lived
QObject per call, whose queued deliveries Qt may drop when it is destroyed. An answer is
dropped, not delivered, when the call's ``context`` QObject has been destroyed meanwhile.

``Requests`` adds channels on top: the latest call on a channel wins. A call that fails
because the signed-in session ended (``SessionEnded``) is also announced by
``session_ended()``, so the console can return to its sign-in form whichever view noticed.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QRunnable,
    QThreadPool,
    Signal,
    SignalInstance,
)

from argos_core.errors import ArgosError, SessionEnded

log = logging.getLogger(__name__)
Callback = Callable[[Any], None]


@dataclass(frozen=True)
class _Due:
    call: QRunnable  # referenced here until its answer is delivered
    on_success: Callback
    on_failure: Callback | None
    context: QObject | None


class _Courier(QObject):
    """Lives on the GUI thread; every answer of every call passes through it."""

    answered = Signal(int, bool, object)
    sessionEnded = Signal(str)

    def __init__(self) -> None:
        super().__init__(QCoreApplication.instance())
        self.due: dict[int, _Due] = {}
        self.answered.connect(self._deliver)

    def _deliver(self, call_id: int, ok: bool, value: object) -> None:
        due = self.due.pop(call_id)
        if due.context is not None and not shiboken6.isValid(due.context):
            return
        if ok:
            due.on_success(value)
            return
        if due.on_failure is not None:
            due.on_failure(value)
        if isinstance(value, SessionEnded):
            self.sessionEnded.emit(str(value))


class _Call(QRunnable):
    def __init__(self, call_id: int, fn: Callable[[], Any], courier: _Courier) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._id = call_id
        self._fn = fn
        self._courier = courier

    def run(self) -> None:
        try:
            answer: tuple[bool, Any] = (True, self._fn())
        except ArgosError as exc:  # a refusal with its own sentence: the GUI shows it
            answer = (False, exc)
        except Exception as exc:  # unexpected: logged with its traceback, then shown
            log.error("A background call failed", exc_info=exc)
            answer = (False, exc)
        # RuntimeError: the application is shutting down and nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            self._courier.answered.emit(self._id, *answer)


_courier: _Courier | None = None
_ids = itertools.count(1)


def _the_courier() -> _Courier:
    global _courier
    if _courier is None or not shiboken6.isValid(_courier):
        _courier = _Courier()
    return _courier


def run_in_pool(
    fn: Callable[[], Any],
    on_success: Callback,
    on_failure: Callback | None = None,
    pool: QThreadPool | None = None,
    context: QObject | None = None,
) -> None:
    """Call ``fn()`` on ``pool``; then ``on_success(result)`` or ``on_failure(exception)``
    on the GUI thread. Call from the GUI thread.

    ``context`` defaults to the QObject ``on_success`` is a method of, if any.
    """
    if context is None and isinstance(getattr(on_success, "__self__", None), QObject):
        context = on_success.__self__  # type: ignore[attr-defined]
    courier = _the_courier()
    call_id = next(_ids)
    call = _Call(call_id, fn, courier)
    courier.due[call_id] = _Due(call, on_success, on_failure, context)
    (pool or QThreadPool.globalInstance()).start(call)


def session_ended() -> SignalInstance:
    """Emits a sentence for people when a call failed because the session ended."""
    return _the_courier().sessionEnded


def workers_in_flight() -> int:
    """How many started calls have not yet delivered their answer (tests wait for 0)."""
    return len(_courier.due) if _courier is not None and shiboken6.isValid(_courier) else 0


Key = tuple[str, int]


class Requests(QObject):
    """Calls on channels ("node", "agents", "telemetry", ...): the latest call wins.

    Starting a new call on a channel makes any answer still due on it stale, so a slow
    reply for the node the user left never overwrites the one they are looking at now.
    ``idle`` fires when the last call still due has been answered, so views and tests can
    wait for it.
    """

    idle = Signal()

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._tokens: dict[str, int] = {}
        self._pending: set[Key] = set()
        self._was_busy = False

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def is_pending(self, channel: str) -> bool:
        return any(c == channel for c, _ in self._pending)

    def run(
        self,
        channel: str,
        fn: Callable[[], Any],
        on_success: Callback,
        on_failure: Callback,
    ) -> None:
        token = self._tokens.get(channel, 0) + 1
        self._tokens[channel] = token
        key = (channel, token)
        self._pending = {p for p in self._pending if p[0] != channel}
        self._pending.add(key)
        self._announce()
        run_in_pool(
            fn,
            lambda value: self._answered(key, on_success, value),
            lambda exc: self._answered(key, on_failure, exc),
            self._pool,
            context=self,
        )

    def cancel(self, *channels: str) -> None:
        """Forget the answers still due on these channels (all when none are given)."""
        for channel in channels or tuple(self._tokens):
            self._tokens[channel] = self._tokens.get(channel, 0) + 1
        self._pending = {p for p in self._pending if p[0] not in (channels or self._tokens)}
        self._announce()

    def _answered(self, key: Key, deliver: Callback, value: object) -> None:
        current = key in self._pending and self._tokens.get(key[0]) == key[1]
        self._pending.discard(key)
        if current:
            deliver(value)
        self._announce()

    def _announce(self) -> None:
        if self._was_busy and not self.busy:
            self.idle.emit()
        self._was_busy = self.busy
