from datetime import UTC, datetime, timedelta

import pytest

from argos_core.cli.durations import parse_duration
from argos_core.errors import ValidationError
from argos_core.services.dto import StatusCounts
from argos_core.services.validation import clean_name, clean_username
from argos_core.settings import StatusPolicy
from argos_core.status import AgentStatus, agent_status

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = StatusPolicy(report_interval_s=30, overdue_after_s=1800, grace_s=15)


@pytest.mark.parametrize(
    ("age_s", "expected"),
    [(0, "online"), (75, "online"), (76, "offline"), (1800, "offline"), (1801, "overdue")],
)
def test_status_follows_last_seen_thresholds(age_s, expected):
    assert agent_status(NOW - timedelta(seconds=age_s), None, NOW, POLICY) == expected


def test_never_seen_and_revoked():
    assert agent_status(None, None, NOW, POLICY) == AgentStatus.NEVER_SEEN
    assert agent_status(NOW, NOW, NOW, POLICY) == AgentStatus.REVOKED


def test_worst_status_wins_and_summary_reads_like_a_console():
    counts = StatusCounts(online=42, offline=2, never_seen=1)
    assert counts.worst == AgentStatus.OFFLINE
    assert counts.summary == "42/45 online"
    assert StatusCounts(online=3, overdue=1).worst == AgentStatus.OVERDUE
    assert StatusCounts().worst is None


@pytest.mark.parametrize("bad", ["", "   ", "x" * 101, "tab\there", "nul\x00"])
def test_bad_names_are_refused(bad):
    with pytest.raises(ValidationError):
        clean_name(bad)


def test_names_are_trimmed():
    assert clean_name("  Acme Corp  ") == "Acme Corp"


@pytest.mark.parametrize("bad", ["", "ab", "-lead", "has space", "x" * 65, "semi;colon"])
def test_bad_usernames_are_refused(bad):
    with pytest.raises(ValidationError):
        clean_username(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30M", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("never", None),
    ],
)
def test_durations(raw, expected):
    assert parse_duration(raw) == expected


@pytest.mark.parametrize("bad", ["0d", "-1d", "7", "d", "7x", "1.5d"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValidationError):
        parse_duration(bad)
