"""The one way the console runs blocking calls: off the GUI thread, answers back on it."""

from __future__ import annotations

import logging
import sys
import threading

import shiboken6
from PySide6.QtCore import QObject, QThread, QThreadPool

from argos_core.errors import NotFound
from argos_desktop import log_file
from argos_desktop.messages import user_message
from argos_desktop.workers import Requests, run_in_pool, workers_in_flight


def test_answers_and_errors_arrive_on_the_gui_thread(qtbot):
    gui = QThread.currentThread()
    seen: list[tuple[str, object, bool]] = []
    run_in_pool(
        lambda: threading.get_ident(),
        lambda ident: seen.append(("ok", ident, QThread.currentThread() is gui)),
    )
    run_in_pool(
        lambda: 1 / 0,
        lambda _r: seen.append(("ok", None, False)),
        lambda exc: seen.append(("failed", type(exc), QThread.currentThread() is gui)),
    )
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=10_000)
    ok = next(s for s in seen if s[0] == "ok")
    assert ok[1] != threading.get_ident() and ok[2]
    assert ("failed", ZeroDivisionError, True) in seen
    assert workers_in_flight() == 0


def test_a_burst_of_calls_from_short_lived_objects_loses_no_answer(qtbot):
    answers: list[int] = []
    for n in range(500):
        owner = QObject()  # gone long before its answer is due: the answer must not be
        run_in_pool(lambda n=n: n, answers.append)
        owner.deleteLater()
    qtbot.waitUntil(lambda: len(answers) == 500, timeout=20_000)
    assert sorted(answers) == list(range(500))
    assert workers_in_flight() == 0


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[object] = []

    def take(self, value: object) -> None:
        self.got.append(value)


def test_an_answer_for_a_destroyed_receiver_is_dropped_not_delivered(qtbot):
    gate = threading.Event()
    receiver = _Receiver()
    run_in_pool(lambda: gate.wait(10) and "late", receiver.take)
    delivered: list[str] = []
    run_in_pool(lambda: gate.wait(10) and "late", delivered.append, context=receiver)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not _alive(receiver), timeout=5_000)
    gate.set()
    qtbot.waitUntil(lambda: workers_in_flight() == 0, timeout=10_000)
    assert delivered == [] and receiver.got == []


def _alive(obj: QObject) -> bool:
    return shiboken6.isValid(obj)


def test_requests_deliver_only_the_latest_answer_of_a_channel(qtbot):
    pool = QThreadPool()
    pool.setMaxThreadCount(2)
    requests = Requests(pool)
    slow_may_finish = threading.Event()
    shown: list[str] = []
    requests.run("node", lambda: slow_may_finish.wait(10) and "old", shown.append, shown.append)
    with qtbot.waitSignal(requests.idle, timeout=10_000):
        requests.run("node", lambda: "new", shown.append, shown.append)
        qtbot.waitUntil(lambda: shown == ["new"], timeout=10_000)
        assert requests.is_pending("node") is False
        slow_may_finish.set()
    qtbot.waitUntil(lambda: workers_in_flight() == 0, timeout=10_000)
    assert shown == ["new"] and not requests.busy
    pool.waitForDone(10_000)


def test_an_unexpected_failure_is_logged_with_its_traceback_and_its_message_names_the_file(
    qtbot, tmp_path, monkeypatch
):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(log_file, "_path", None)
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    path = log_file.start_log_file(tmp_path)
    failures: list[BaseException] = []

    def broken() -> None:
        raise KeyError("no such column")

    run_in_pool(broken, lambda _r: None, failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=10_000)
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert user_message(failures[0]) == (
        f"Something went wrong (KeyError); the details are in {path}."
    )
    written = path.read_text(encoding="utf-8")
    assert "Traceback" in written and "no such column" in written
    assert user_message(NotFound("No such agent.")) == "No such agent."
