"""Maintenance windows: one-time, daily past midnight, weekly, and DST in the window's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from argos_core.alerts.maintenance import Schedule
from argos_core.errors import ValidationError


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_one_time_window_is_open_from_its_start_for_its_duration():
    window = Schedule(datetime(2026, 12, 1, 10, 0), "UTC", 3600, "none")
    assert window.occurrence_at(utc("2026-12-01T09:59:59")) is None
    assert window.occurrence_at(utc("2026-12-01T10:00:00")) == (
        utc("2026-12-01T10:00:00"),
        utc("2026-12-01T11:00:00"),
    )
    assert window.occurrence_at(utc("2026-12-01T11:00:00")) is None
    assert window.occurrence_at(utc("2026-12-02T10:30:00")) is None


def test_a_daily_window_crossing_midnight_covers_the_small_hours_of_the_next_day():
    window = Schedule(datetime(2026, 12, 1, 23, 0), "Europe/Berlin", 3 * 3600, "daily")
    # 23:00-02:00 Berlin (UTC+1 in winter) is 22:00-01:00 UTC.
    assert window.occurrence_at(utc("2026-12-05T00:30:00")) == (
        utc("2026-12-04T22:00:00"),
        utc("2026-12-05T01:00:00"),
    )
    assert window.occurrence_at(utc("2026-12-05T01:00:00")) is None
    assert window.occurrence_at(utc("2026-11-30T22:30:00")) is None  # before the first one


def test_a_daily_window_keeps_its_local_time_across_dst():
    window = Schedule(datetime(2026, 3, 1, 2, 0), "Europe/Berlin", 1800, "daily")
    # Winter: 02:00 local is 01:00 UTC; summer: 00:00 UTC.
    assert window.occurrence_at(utc("2026-03-20T01:10:00")) is not None
    assert window.occurrence_at(utc("2026-04-20T00:10:00")) is not None
    assert window.occurrence_at(utc("2026-04-20T01:10:00")) is None
    # 2026-03-29 02:00 does not exist in Berlin: the window opens when the clock reads 03:00.
    assert window.occurrence_at(utc("2026-03-29T01:10:00")) == (
        utc("2026-03-29T01:00:00"),
        utc("2026-03-29T01:30:00"),
    )


def test_a_weekly_window_opens_on_its_weekday_only():
    window = Schedule(datetime(2026, 12, 6, 22, 0), "UTC", 4 * 3600, "weekly")  # a Sunday
    assert window.occurrence_at(utc("2026-12-13T23:00:00")) is not None
    assert window.occurrence_at(utc("2026-12-14T01:59:00")) is not None
    assert window.occurrence_at(utc("2026-12-14T02:00:00")) is None
    assert window.occurrence_at(utc("2026-12-12T23:00:00")) is None


def test_an_unknown_time_zone_is_a_clear_error():
    with pytest.raises(ValidationError, match="not a time zone"):
        Schedule(datetime(2026, 12, 1), "Nowhere/Special", 60, "none").occurrence_at(
            utc("2026-12-01T00:00:00")
        )
