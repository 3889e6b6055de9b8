"""When a maintenance window is open: one-time, or daily/weekly at a local wall-clock time.

Recurring windows are anchored to the local time in their own time zone, so a window at
02:30 every night stays at 02:30 local across DST changes; a start that falls in the gap of
a spring-forward day opens as much later as the clocks jumped (02:30 becomes 03:30, as
``zoneinfo`` reads a time in the gap), and a window may run past midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argos_core.errors import ValidationError

Repeat = Literal["none", "daily", "weekly"]
PERIOD_DAYS: dict[str, int] = {"daily": 1, "weekly": 7}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError(f"'{name}' is not a time zone (e.g. UTC, Europe/Berlin).") from exc


@dataclass(frozen=True)
class Schedule:
    starts_local: datetime  # naive wall-clock time in ``timezone``
    timezone: str
    duration_s: int
    repeat: Repeat

    def occurrence_at(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence (start, end, aware UTC) open at ``now``, if any."""
        tz = zone(self.timezone)
        length = timedelta(seconds=self.duration_s)
        if self.repeat == "none":
            start = _aware(self.starts_local, tz)
            return (start, start + length) if start <= now < start + length else None
        period = PERIOD_DAYS[self.repeat]
        local_today = now.astimezone(tz).date()
        # Occurrences starting up to one window length (plus a day for DST) before now.
        span_days = self.duration_s // 86400 + 2
        first = self.starts_local.date()
        for back in range(span_days + period):
            day = local_today - timedelta(days=back)
            if day < first or (day - first).days % period:
                continue
            start = _aware(datetime.combine(day, self.starts_local.time()), tz)
            if start <= now < start + length:
                return start, start + length
        return None


def _aware(local: datetime, tz: ZoneInfo) -> datetime:
    """Local wall-clock time to UTC (the first of a repeated hour; see the module doc)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def validate(duration_s: int, repeat: str) -> None:
    if repeat not in ("none", "daily", "weekly"):
        raise ValidationError("A maintenance window repeats 'daily', 'weekly' or not at all.")
    if duration_s <= 0:
        raise ValidationError("A maintenance window must last a positive time.")
    if repeat != "none" and duration_s > PERIOD_DAYS[repeat] * 86400:
        raise ValidationError(f"A {repeat} maintenance window cannot last longer than its period.")
