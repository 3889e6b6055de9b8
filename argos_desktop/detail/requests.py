"""Service calls for the detail pane, off the GUI thread, latest answer wins.

Each call belongs to a *channel* ("node", "agents", "telemetry", ...). Starting a new call
on a channel makes any answer still due on it stale, so a slow reply for the node the user
left never overwrites the one they are looking at now.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

Key = tuple[str, int]


class _Call(QRunnable):
    """Runs ``fn`` on a pool thread and reports through ``Requests._answered``.

    Every answer travels through the one long-lived ``Requests`` object (a queued signal
    into the GUI thread), never through a short-lived QObject per call, whose queued
    deliveries Qt may drop when it is destroyed.
    """

    def __init__(self, key: Key, fn: Callable[[], Any], requests: Requests) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._key = key
        self._fn = fn
        self._requests = requests

    def run(self) -> None:
        try:
            answer: tuple[str, Any] = ("ok", self._fn())
        except Exception as exc:  # delivered to the GUI, which shows it
            answer = ("error", exc)
        with contextlib.suppress(RuntimeError):  # the pane is gone; nobody wants the answer
            self._requests._answered.emit(self._key, answer)


class Requests(QObject):
    """Runs callables on ``pool`` and hands their results to the GUI thread.

    ``idle`` fires when the last call still due has been answered, so views and tests can
    wait for it.
    """

    idle = Signal()
    _answered = Signal(object, object)

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._tokens: dict[str, int] = {}
        self._pending: set[Key] = set()
        self._calls: dict[Key, tuple[_Call, Callable, Callable]] = {}
        self._was_busy = False
        self._answered.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def is_pending(self, channel: str) -> bool:
        return any(c == channel for c, _ in self._pending)

    def run(
        self,
        channel: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        token = self._tokens.get(channel, 0) + 1
        self._tokens[channel] = token
        key = (channel, token)
        self._pending = {p for p in self._pending if p[0] != channel}
        self._pending.add(key)
        call = _Call(key, fn, self)
        self._calls[key] = (call, on_success, on_failure)
        self._announce()
        self._pool.start(call)

    def cancel(self, *channels: str) -> None:
        """Forget the answers still due on these channels (all when none are given)."""
        for channel in channels or tuple(self._tokens):
            self._tokens[channel] = self._tokens.get(channel, 0) + 1
        self._pending = {p for p in self._pending if p[0] not in (channels or self._tokens)}
        self._announce()

    def _deliver(self, key: Key, answer: tuple[str, Any]) -> None:
        _call, on_success, on_failure = self._calls.pop(key)
        current = key in self._pending and self._tokens.get(key[0]) == key[1]
        self._pending.discard(key)
        if current:
            kind, value = answer
            (on_success if kind == "ok" else on_failure)(value)
        self._announce()

    def _announce(self) -> None:
        if self._was_busy and not self.busy:
            self.idle.emit()
        self._was_busy = self.busy
