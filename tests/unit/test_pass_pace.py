"""A long pass's pace: rests in proportion to its work, renews its lease now and then, and
stops at once when asked, a rest included."""

from __future__ import annotations

import threading

import pytest

from argos_core.leases import LeaseLost
from argos_core.pass_pace import MAX_REST_S, PassPace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class NotedStop(threading.Event):
    """A stop event that notes each rest asked of it (and rests a millisecond)."""

    def __init__(self) -> None:
        super().__init__()
        self.rests: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.rests.append(timeout)
        return super().wait(0.001)


def test_the_pace_rests_its_coefficient_times_the_work_since_the_last_step():
    clock, stop = Clock(), NotedStop()
    pace = PassPace(sleep_coef=2.0, stop=stop, clock=clock)
    for work in (0.1, 0.25, 0.0, 4.0):
        clock.now += work
        pace()
    assert stop.rests == pytest.approx([0.2, 0.5, MAX_REST_S])  # no work, no rest; capped


def test_without_a_coefficient_the_pass_never_rests():
    clock, stop = Clock(), NotedStop()
    pace = PassPace(stop=stop, clock=clock)
    clock.now += 3.0
    pace()
    assert stop.rests == [] and pace.rested_s == 0


def test_the_lease_is_renewed_once_per_interval_not_per_transaction():
    clock, renewals = Clock(), []
    pace = PassPace(lambda: renewals.append(clock.now), renew_every_s=10.0, clock=clock)
    for _ in range(25):
        clock.now += 1.0
        pace()
    assert renewals == [1010.0, 1020.0]


def test_a_stop_during_a_rest_ends_the_pass_at_once():
    stop = threading.Event()
    began = threading.Event()

    def keep_alive() -> None:
        if stop.is_set():
            raise LeaseLost("The server is stopping.")

    class Watched(threading.Event):
        def wait(self, timeout=None):
            began.set()
            return stop.wait(timeout)

        def is_set(self):
            return stop.is_set()

    clock = Clock()
    pace = PassPace(keep_alive, sleep_coef=1.0, stop=Watched(), clock=clock)
    clock.now += 3600.0  # a rest of MAX_REST_S
    raised: list[BaseException] = []

    def step() -> None:
        try:
            pace()
        except LeaseLost as exc:
            raised.append(exc)

    worker = threading.Thread(target=step)
    worker.start()
    assert began.wait(MAX_REST_S)
    stop.set()
    worker.join(MAX_REST_S / 2)  # the rest asked was MAX_REST_S
    assert not worker.is_alive() and [str(e) for e in raised] == ["The server is stopping."]


def test_a_negative_coefficient_is_refused():
    with pytest.raises(ValueError):
        PassPace(sleep_coef=-1)
