"""The agent's sample buffer on disk: survives restarts, bounded, never hands out a sample twice."""

from __future__ import annotations

import logging
import stat

import pytest

from argos_agent.sample_buffer import COMPACT_SLACK_LINES, SampleBuffer, read_journal


def sample(ts: int) -> dict:
    return {"ts": ts, "cpu_percent": 1.5, "net_rx_bytes": ts * 10}


def test_waiting_samples_survive_reopening_and_sent_ones_do_not_come_back(tmp_path):
    path = tmp_path / "buffer.jsonl"
    buffer = SampleBuffer(path)
    for ts in range(100, 105):
        buffer.append(sample(ts))
    buffer.forget(2)
    buffer.close()

    reopened = SampleBuffer(path)
    assert reopened.oldest(10) == [sample(ts) for ts in range(102, 105)]
    reopened.append(sample(105))
    reopened.forget(3)
    reopened.close()
    assert SampleBuffer(path).oldest(10) == [sample(105)]


def test_the_journal_is_private_and_rewritten_by_rename(tmp_path):
    path = tmp_path / "state" / "buffer.jsonl"
    buffer = SampleBuffer(path)
    buffer.append(sample(1))
    buffer.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["buffer.jsonl"]


def test_a_torn_last_line_is_ignored_and_the_journal_stays_usable(tmp_path):
    path = tmp_path / "buffer.jsonl"
    buffer = SampleBuffer(path)
    buffer.append(sample(1))
    buffer.append(sample(2))
    buffer.close()
    with path.open("a") as handle:
        handle.write('{"n": 3, "s": {"ts": 3, "cpu_')  # the agent died mid-write

    reopened = SampleBuffer(path)
    assert reopened.oldest(10) == [sample(1), sample(2)]
    reopened.append(sample(4))
    reopened.close()
    assert [s for _, s in read_journal(path)] == [sample(1), sample(2), sample(4)]


def test_when_full_the_oldest_samples_make_room(tmp_path):
    buffer = SampleBuffer(tmp_path / "buffer.jsonl", max_samples=3)
    dropped = [buffer.append(sample(ts)) for ts in range(1, 6)]
    assert dropped == [0, 0, 0, 1, 1]
    assert buffer.oldest(10) == [sample(3), sample(4), sample(5)]
    buffer.close()
    assert [s for _, s in read_journal(buffer.path)] == [sample(3), sample(4), sample(5)]


def test_a_smaller_bound_at_start_keeps_the_newest(tmp_path):
    path = tmp_path / "buffer.jsonl"
    buffer = SampleBuffer(path)
    for ts in range(10):
        buffer.append(sample(ts))
    buffer.close()
    assert SampleBuffer(path, max_samples=4).oldest(10) == [sample(ts) for ts in range(6, 10)]


def test_samples_older_than_the_age_bound_expire(tmp_path):
    buffer = SampleBuffer(tmp_path / "buffer.jsonl", max_age_s=100)
    for ts in (1000, 1050, 1100, 1150):
        buffer.append(sample(ts))
    assert buffer.expire(now=1200) == 2
    assert buffer.oldest(10) == [sample(1100), sample(1150)]
    assert buffer.expire(now=1200) == 0
    buffer.close()
    assert [s["ts"] for _, s in read_journal(buffer.path)] == [1100, 1150]


def test_the_journal_is_compacted_as_samples_come_and_go(tmp_path):
    path = tmp_path / "buffer.jsonl"
    buffer = SampleBuffer(path)
    for ts in range(3 * COMPACT_SLACK_LINES):
        buffer.append(sample(ts))
        buffer.forget(1)
    buffer.append(sample(-1))
    lines = path.read_text().splitlines()
    assert len(lines) <= COMPACT_SLACK_LINES + 3
    buffer.close()
    assert SampleBuffer(path).oldest(10) == [sample(-1)]


def test_without_a_usable_file_samples_are_kept_in_memory(tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with caplog.at_level(logging.ERROR, logger="argos_agent.sample_buffer"):
        buffer = SampleBuffer(blocker / "buffer.jsonl")
    assert buffer.path is None
    assert "samples are kept in memory only" in caplog.text
    buffer.append(sample(1))
    assert buffer.oldest(5) == [sample(1)]


def test_a_buffer_must_hold_at_least_one_sample():
    with pytest.raises(ValueError):
        SampleBuffer(max_samples=0)
