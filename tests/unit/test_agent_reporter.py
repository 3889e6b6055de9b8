"""The agent's reporting loop against a scripted server: retries, re-enrollment, buffering."""

from __future__ import annotations

import asyncio
import random

import pytest

from argos_agent.backoff import Backoff
from argos_agent.protocol import Enrollment, Rejected, RetryLater, SendResult, Unauthorized
from argos_agent.reporter import EnrollmentRefused, Reporter
from argos_agent.sample_buffer import SampleBuffer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, stop: asyncio.Event, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


class ScriptedClient:
    """Answers each ``send`` with the next scripted outcome (then 200 for ever)."""

    def __init__(self, outcomes: list[Exception | None] | None = None) -> None:
        self.outcomes = list(outcomes or [])
        self.sent: list[tuple[float, str, list[dict]]] = []
        self.time: FakeTime | None = None
        self.stop_after = 0
        self.stop: asyncio.Event | None = None

    async def send(self, token: str, samples: list[dict]) -> SendResult:
        self.sent.append((self.time.now, token, list(samples)))
        if len(self.sent) >= self.stop_after:
            self.stop.set()
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return SendResult(len(samples), 0, 30)


def make_reporter(client, *, enrollments=None, stop_after: int, **kw):
    time = FakeTime()
    client.time = time
    stop = asyncio.Event()
    client.stop, client.stop_after = stop, stop_after
    tokens = iter(enrollments or [Enrollment("a", f"token-{i}", 30) for i in range(10)])
    enrolled: list[str] = []

    async def enroll() -> Enrollment:
        item = next(tokens)
        if isinstance(item, Exception):
            raise item
        enrolled.append(item.token)
        return item

    def sample(now: float) -> dict:
        return {"ts": int(now), "cpu_percent": 1.0}

    reporter = Reporter(
        client,
        enroll,
        sample,
        interval_s=10,
        clock=time.clock,
        sleep=time.sleep,
        backoff=Backoff(rng=random.Random(1)),
        **kw,
    )
    return reporter, stop, time, enrolled


def run(reporter, stop) -> None:
    asyncio.run(asyncio.wait_for(reporter.run(stop), 5))


def test_samples_are_sent_every_interval_after_enrolling():
    client = ScriptedClient()
    reporter, stop, _, enrolled = make_reporter(client, stop_after=3)
    run(reporter, stop)
    assert enrolled == ["token-0"]
    times = [t for t, _, _ in client.sent]
    assert times == [1000.0, 1010.0, 1020.0]
    assert reporter.sent == 3 and not reporter.buffer


def test_retry_after_is_honoured_and_unsent_samples_are_kept_and_batched():
    client = ScriptedClient([RetryLater("busy", 503, retry_after=25)])
    reporter, stop, _, _ = make_reporter(client, stop_after=2)
    run(reporter, stop)
    (t1, _, first), (t2, _, second) = client.sent
    assert t2 - t1 >= 25
    assert first == second[:1]
    assert [s["ts"] for s in second] == list(range(1000, int(t2) + 1, 10))


def test_backoff_grows_with_jitter_on_repeated_network_errors():
    failures = [RetryLater("down") for _ in range(5)]
    client = ScriptedClient(failures)
    reporter, stop, _, _ = make_reporter(client, stop_after=6)
    run(reporter, stop)
    gaps = [b[0] - a[0] for a, b in zip(client.sent, client.sent[1:], strict=False)]
    assert gaps[0] < gaps[3]
    assert all(g > 0 for g in gaps)


def test_a_refused_token_makes_the_agent_enroll_again_and_resend():
    client = ScriptedClient([Unauthorized("revoked?", 401)])
    reporter, stop, _, enrolled = make_reporter(client, stop_after=2)
    run(reporter, stop)
    assert enrolled == ["token-0", "token-1"]
    assert [token for _, token, _ in client.sent] == ["token-0", "token-1"]
    assert client.sent[0][2] == client.sent[1][2][: len(client.sent[0][2])]


def test_the_buffer_is_bounded_and_keeps_the_newest_samples():
    client = ScriptedClient([RetryLater("down", 503, retry_after=60)] * 3)
    reporter, stop, _, _ = make_reporter(client, stop_after=4, buffer=SampleBuffer(max_samples=3))
    run(reporter, stop)
    last = client.sent[-1][2]
    assert len(last) == 3
    assert [s["ts"] for s in last] == sorted(s["ts"] for s in last)
    assert reporter.dropped > 0


def test_a_rejected_batch_is_dropped_not_retried_for_ever():
    client = ScriptedClient([Rejected("bad", 400)])
    reporter, stop, _, _ = make_reporter(client, stop_after=2)
    run(reporter, stop)
    assert client.sent[0][2] != client.sent[1][2][:1]
    assert reporter.dropped == 1


def test_a_refused_enrollment_key_stops_the_agent():
    client = ScriptedClient()
    reporter, stop, _, _ = make_reporter(
        client, enrollments=[Unauthorized("no", 401)], stop_after=1
    )
    with pytest.raises(EnrollmentRefused):
        run(reporter, stop)


def test_enrollment_is_retried_while_the_server_is_unreachable():
    client = ScriptedClient()
    reporter, stop, time, enrolled = make_reporter(
        client,
        enrollments=[RetryLater("down"), RetryLater("down"), Enrollment("a", "t", 30)],
        stop_after=1,
    )
    run(reporter, stop)
    assert enrolled == ["t"]
    assert time.now > 1000


def test_backoff_never_retries_sooner_than_retry_after():
    backoff = Backoff(rng=random.Random(3))
    assert all(backoff.next_delay(retry_after=5) >= 5 for _ in range(20))
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_samples_are_collected_while_enrollment_waits_for_the_server():
    client = ScriptedClient()
    reporter, stop, _, enrolled = make_reporter(
        client,
        enrollments=[RetryLater("down", 503, retry_after=25), Enrollment("a", "t", 30)],
        stop_after=1,
    )
    run(reporter, stop)
    assert enrolled == ["t"]
    (sent_at, _, first), *_ = client.sent
    assert sent_at >= 1025
    assert [s["ts"] for s in first] == list(range(1000, int(sent_at) + 1, 10))


def test_a_full_buffer_warns_once_then_counts_what_it_dropped(caplog):
    client = ScriptedClient([RetryLater("down", 503, retry_after=100)])
    reporter, stop, _, _ = make_reporter(client, stop_after=2, buffer=SampleBuffer(max_samples=4))
    with caplog.at_level("WARNING", logger="argos_agent.reporter"):
        run(reporter, stop)
    messages = [r.getMessage() for r in caplog.records]
    full = [m for m in messages if "the buffer is full (4 samples)" in m]
    counted = [m for m in messages if "samples were dropped while the buffer was full" in m]
    kept = [s["ts"] for s in client.sent[1][2]]
    collected = (kept[-1] - 1000) // 10 + 1
    assert len(kept) == 4
    assert reporter.dropped == collected - 4 > 0
    assert len(full) == 1
    assert counted == [f"agent: {reporter.dropped} samples were dropped while the buffer was full"]


def test_samples_too_old_are_dropped_and_counted(caplog):
    client = ScriptedClient([RetryLater("down", 503, retry_after=100)])
    buffer = SampleBuffer(max_samples=100, max_age_s=35)
    reporter, stop, _, _ = make_reporter(client, stop_after=2, buffer=buffer)
    with caplog.at_level("WARNING", logger="argos_agent.reporter"):
        run(reporter, stop)
    second = client.sent[1][2]
    assert second[-1]["ts"] - second[0]["ts"] <= 35
    assert reporter.dropped > 0
    assert any("unsent samples older than 35s" in r.getMessage() for r in caplog.records)


def test_samples_kept_on_disk_are_sent_by_the_next_run_and_only_once(tmp_path):
    path = tmp_path / "buffer.jsonl"
    down = ScriptedClient([RetryLater("down")] * 100)
    first, stop, _, _ = make_reporter(down, stop_after=7, buffer=SampleBuffer(path))
    run(first, stop)
    first.buffer.close()
    kept = [s["ts"] for s in SampleBuffer(path).oldest(100)]
    assert len(kept) >= 4

    up = ScriptedClient()
    second, stop, _, _ = make_reporter(up, stop_after=1, buffer=SampleBuffer(path))
    run(second, stop)
    second.buffer.close()
    assert [s["ts"] for s in up.sent[0][2]][: len(kept)] == kept
    assert len(SampleBuffer(path)) == 0
