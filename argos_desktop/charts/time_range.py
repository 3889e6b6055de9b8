"""Time ranges for charts: "last …" presets that follow the clock, and fixed custom ranges."""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600
DAY = 86400

PRESETS: tuple[tuple[str, int], ...] = (
    ("1 h", HOUR),
    ("6 h", 6 * HOUR),
    ("24 h", DAY),
    ("7 d", 7 * DAY),
    ("30 d", 30 * DAY),
    ("90 d", 90 * DAY),
    ("1 y", 365 * DAY),
)
DEFAULT_PRESET = "24 h"
# The service caps a query at 20,000 points; a chart never needs more than its width.
MIN_POINTS, MAX_POINTS = 200, 4000


@dataclass(frozen=True)
class TimeRange:
    """Either the last ``span_s`` seconds before now (``live``) or a fixed ``[start, end)``."""

    label: str
    span_s: int
    fixed_start: int | None = None

    @classmethod
    def preset(cls, label: str) -> TimeRange:
        return cls(label, dict(PRESETS)[label])

    @classmethod
    def custom(cls, start: int, end: int) -> TimeRange:
        return cls("Custom", int(end) - int(start), int(start))

    @property
    def live(self) -> bool:
        return self.fixed_start is None

    def bounds(self, now: float) -> tuple[int, int]:
        """``(start, end)`` in Unix seconds; a live range ends just after ``now``."""
        if self.fixed_start is not None:
            return self.fixed_start, self.fixed_start + self.span_s
        end = int(now) + 1
        return end - self.span_s, end


# Bucket sizes that line up with whole-minute samples, so every bucket averages the same
# number of them (an uneven split would make counter rates zigzag).
NICE_BUCKETS_S = (
    1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1200, 1800,
    3600, 7200, 10800, 14400, 21600, 43200, 86400,
)  # fmt: skip


def points_for_width(pixels: float) -> int:
    """How many points a plot this many device pixels wide can show (one per pixel)."""
    return max(MIN_POINTS, min(MAX_POINTS, int(pixels)))


def plan_query(start: int, end: int, pixels: float) -> tuple[int, int, int]:
    """``(start, end, max_points)`` to ask the telemetry service for a chart of ``pixels``.

    Never more than one point per pixel. When the range must be averaged, the bucket is a
    round number of seconds (so every bucket holds as many whole-minute samples and counter
    rates do not zigzag) and the range is widened to whole buckets: the database's buckets,
    aligned on the range start, then fall on multiples of the bucket size, the same grid
    whatever the start, which lets a live refresh re-read just the last bucket.
    """
    span = end - start
    limit = points_for_width(pixels)
    if span <= limit:
        return start, end, limit
    wanted = span / (limit - 2)
    bucket = next((b for b in NICE_BUCKETS_S if b >= wanted), -(-span // (limit - 2)))
    start -= start % bucket
    end = -(-end // bucket) * bucket
    return start, end, (end - start) // bucket
