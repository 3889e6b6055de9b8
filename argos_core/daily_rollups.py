"""The daily tier for ranking agents: per agent and closed day, what top agents sum from
the agents' hourly rows (per ranked metric the sample-weighted sum of the hourly averages,
its weight, and the highest maximum). A company's 30-day ranking then reads 30 rows per
agent instead of 720, and gives the same ranking: the sums are the hourly ones, added up.

Days are rolled once closed (every hour of the day rolled up), and again for an agent whose
hour of a closed day is re-rolled (late samples).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

DAY_S = 86400
RANKED = ("cpu_percent", "mem_percent", "disk_percent")
STATS = ("wsum", "weight", "max")
DAILY_COLUMNS = ["agent_id", "day"] + [f"{m}_{s}" for m in RANKED for s in STATS]
# As for the hourly tier: literal IN lists below MariaDB's in_predicate_conversion_threshold.
AGENTS_PER_STATEMENT = 500


def day_start(ts: int) -> int:
    return int(ts) // DAY_S * DAY_S


def roll_days(conn: Connection, lo: int, hi: int, agent_ids: Sequence[int]) -> None:
    """Rebuild the agents' daily rows of the days ``lo <= day < hi`` from their hourly rows
    (delete, then insert: idempotent, and a day whose hours are gone goes too)."""
    sources = ["agent_id", f"hour - hour % {DAY_S}"]
    for m in RANKED:
        sources += [
            f"COALESCE(SUM({m}_avg * samples * 1e0), 0)",
            f"COALESCE(SUM(CASE WHEN {m}_avg IS NOT NULL THEN samples END), 0)",
            f"MAX({m}_max)",
        ]
    params = {"lo": day_start(lo), "hi": day_start(hi)}
    ids = sorted(set(agent_ids))
    for start in range(0, len(ids), AGENTS_PER_STATEMENT):
        listed = ",".join(str(int(a)) for a in ids[start : start + AGENTS_PER_STATEMENT])
        conn.execute(
            text(
                f"DELETE FROM telemetry_daily WHERE agent_id IN ({listed})"
                " AND day >= :lo AND day < :hi"
            ),
            params,
        )
        conn.execute(
            text(
                f"INSERT INTO telemetry_daily ({', '.join(DAILY_COLUMNS)})"
                f" SELECT {', '.join(sources)} FROM telemetry_hourly"
                f" WHERE agent_id IN ({listed}) AND hour >= :lo AND hour < :hi"
                f" GROUP BY agent_id, hour - hour % {DAY_S}"
            ),
            params,
        )
