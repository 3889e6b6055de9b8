"""The rollup tier: hourly min/avg/max per agent and metric, built from raw samples.

Closed hours are rolled in order from the ``rolled_until`` mark, an hour per transaction,
so a catch-up after downtime is a series of short transactions. Rolling is an
upsert, so rolling an hour again (a restart mid-way, a late sample) gives the same rows.

Late samples: the writer notes ``(agent, hour)`` in ``telemetry_late_hours`` for samples of
an hour closed more than ``LATE_AFTER_S`` ago, and the job re-rolls exactly those. An hour
is rolled only ``SETTLE_S`` after it closed, longer than any flush takes, so a sample
neither noted nor seen by the first roll cannot exist.

The network counters become per-second rates between consecutive samples (the chart shows
rates); a counter that went backwards, or a silence longer than ``LOOKBACK_S``, gives no
rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, and_, delete, or_, select, text

from argos_core import branch_rollups, daily_rollups
from argos_core.models import ROLLUP_METRICS, Agent, Branch, TelemetryLateHour, TelemetryMark

HOUR_S = 3600
SETTLE_S = 120
LATE_AFTER_S = 60
# A counter gives a rate between samples at most this far apart (also across the start of
# an hour, so rolling an hour alone or within a day gives the same rates).
LOOKBACK_S = 900
ROLLED_UNTIL = "rolled_until"
DAILY_UNTIL = "daily_until"
RAW_HORIZON = "raw_horizon"
LATE_BATCH = 5000
# Below MariaDB's in_predicate_conversion_threshold (1000): a longer IN list becomes a
# subquery joined on agent_id alone, reading each agent's whole history instead of a range.
AGENTS_PER_ROLL = 500

GAUGES = ("cpu_percent", "mem_percent", "disk_percent", "load_1m")
RATES = {"net_rx_rate": "net_rx_bytes", "net_tx_rate": "net_tx_bytes"}
ROLLUP_COLUMNS = ["agent_id", "hour", "samples"] + [
    f"{m}_{s}" for m in ROLLUP_METRICS for s in ("min", "avg", "max")
]


def hour_start(ts: int) -> int:
    return int(ts) // HOUR_S * HOUR_S


def closed_until(now: int) -> int:
    """Hours before this instant are closed and settled: the job may roll them."""
    return hour_start(now - SETTLE_S)


def late_before(now: int) -> int:
    """A sample before this instant is late: its hour may already be rolled."""
    return hour_start(now - LATE_AFTER_S)


def hourly_select(agent_ids: Sequence[int]) -> str:
    """``SELECT`` of rollup rows for ``:lo <= hour < :hi`` of the given agents (columns in
    ``ROLLUP_COLUMNS`` order). ``agent_id IN (...)`` with the ``ts`` range lets the
    database read each agent's hour as one primary-key range (a join from ``agents`` would
    read each agent's whole history, and a bare ``ts`` range the whole day's partition)."""
    listed = ",".join(str(int(i)) for i in agent_ids)
    stats = []
    for metric in ROLLUP_METRICS:
        column = metric if metric in GAUGES else metric.replace("_rate", "")
        stats += [f"MIN({column})", f"AVG({column})", f"MAX({column})"]
    rates = ",\n".join(
        f"CASE WHEN {c} >= p_{c} AND ts - p_ts BETWEEN 1 AND {LOOKBACK_S}"
        f" THEN ({c} - p_{c}) * 1e0 / (ts - p_ts) END"
        f" AS {c.replace('_bytes', '')}"
        for c in RATES.values()
    )
    return f"""
        SELECT agent_id, hour, COUNT(*), {", ".join(stats)}
        FROM (
            SELECT agent_id, ts, ts - ts % {HOUR_S} AS hour, {", ".join(GAUGES)},
                {rates}
            FROM (
                SELECT agent_id, ts, {", ".join(GAUGES)}, {", ".join(RATES.values())},
                    LAG(ts) OVER w AS p_ts,
                    {", ".join(f"LAG({c}) OVER w AS p_{c}" for c in RATES.values())}
                FROM telemetry
                WHERE agent_id IN ({listed}) AND ts >= :lo - {LOOKBACK_S} AND ts < :hi
                WINDOW w AS (PARTITION BY agent_id ORDER BY ts)
            ) lagged
        ) rated
        WHERE ts >= :lo
        GROUP BY agent_id, hour
    """


def _upsert(dialect: str, select_sql: str) -> str:
    columns = ", ".join(ROLLUP_COLUMNS)
    if dialect == "sqlite":
        return f"INSERT OR REPLACE INTO telemetry_hourly ({columns}) {select_sql}"
    updates = ", ".join(f"{c} = VALUES({c})" for c in ROLLUP_COLUMNS[2:])
    return (
        f"INSERT INTO telemetry_hourly ({columns}) {select_sql} ON DUPLICATE KEY UPDATE {updates}"
    )


def roll(
    conn: Connection,
    lo: int,
    hi: int,
    agent_ids: Sequence[int] | None = None,
    branch_ids: Sequence[int] | None = None,
) -> int:
    """Roll the hours ``lo <= hour < hi`` (of the given agents, else all) into
    ``telemetry_hourly``, ``AGENTS_PER_ROLL`` agents per statement, then rebuild those hours
    in the node tier for the branches of the agents that had any (``branch_ids``, when the
    caller knows the agents' branches, stands for them when every chunk had some), and the
    agents' days in the daily tier where it already covers them. Idempotent. Returns the
    database's count of agent rows written."""
    if agent_ids is None:
        agent_ids = list(conn.scalars(select(Agent.id).order_by(Agent.id)))
    written = 0
    params = {"lo": hour_start(lo), "hi": hour_start(hi)}
    # Agents of chunks that wrote rows: most chunks of a sparse fleet write none, and
    # rebuilding their branches would double the cost of an hour (an upsert's count
    # includes rows found unchanged, so a re-roll counts too).
    touched: list[int] = []
    for start in range(0, len(agent_ids), AGENTS_PER_ROLL):
        chunk = agent_ids[start : start + AGENTS_PER_ROLL]
        sql = _upsert(conn.dialect.name, hourly_select(chunk))
        count = conn.execute(text(sql), params).rowcount
        written += count
        if count:
            touched += chunk
    if not touched:
        return written
    if branch_ids is None or len(touched) < len(agent_ids):
        branch_ids = sorted(branch_rollups.branches_of(conn, touched))
    branch_rollups.roll_branches(conn, params["lo"], params["hi"], branch_ids)
    daily = get_mark(conn, DAILY_UNTIL)
    if daily is not None and params["lo"] < daily:
        days_hi = min(daily, daily_rollups.day_start(params["hi"] - 1) + daily_rollups.DAY_S)
        daily_rollups.roll_days(conn, params["lo"], days_hi, touched)
    return written


def get_mark(conn: Connection, name: str) -> int | None:
    return conn.scalar(select(TelemetryMark.ts).where(TelemetryMark.name == name))


def set_mark(conn: Connection, name: str, ts: int) -> None:
    if get_mark(conn, name) is None:
        conn.execute(TelemetryMark.__table__.insert().values(name=name, ts=int(ts)))
    else:
        conn.execute(
            TelemetryMark.__table__.update().where(TelemetryMark.name == name).values(ts=int(ts))
        )


def oldest_raw_ts(conn: Connection) -> int | None:
    """The oldest raw sample of any agent: one index dive per agent (a plain ``MIN(ts)``
    would scan every partition, ``ts`` not leading the primary key)."""
    return conn.scalar(
        text(
            "SELECT MIN((SELECT MIN(t.ts) FROM telemetry t WHERE t.agent_id = a.id)) FROM agents a"
        )
    )


def roll_closed_hours(engine: Engine, now: int, pace=None) -> int:
    """Roll every closed hour since the ``rolled_until`` mark (from the oldest raw sample
    the first time), one transaction per hour. Returns the hours rolled."""
    end = closed_until(now)
    with engine.begin() as conn:
        lo = get_mark(conn, ROLLED_UNTIL)
        if lo is None:
            oldest = oldest_raw_ts(conn)
            if oldest is None:
                return 0
            lo = hour_start(oldest)
    hours = 0
    with engine.connect() as conn:
        agent_ids = list(conn.scalars(select(Agent.id).order_by(Agent.id)))
        branch_ids = list(conn.scalars(select(Branch.id).order_by(Branch.id)))
    while lo < end:
        # An hour per statement: the window over each agent's samples stays small enough
        # to sort in memory (a day at once was ten times slower per sample).
        with engine.begin() as conn:
            roll(conn, lo, lo + HOUR_S, agent_ids, branch_ids)
            set_mark(conn, ROLLED_UNTIL, lo + HOUR_S)
        hours += 1
        lo += HOUR_S
        if pace is not None:
            pace()
    return hours


def oldest_hour(conn: Connection) -> int | None:
    """The oldest hourly row of any agent, one index dive per agent."""
    return conn.scalar(
        text(
            "SELECT MIN((SELECT MIN(h.hour) FROM telemetry_hourly h WHERE h.agent_id = a.id))"
            " FROM agents a"
        )
    )


def roll_closed_days(engine: Engine, pace=None) -> int:
    """Roll every day whose hours are all rolled up into the daily tier, from the
    ``daily_until`` mark (from the oldest hourly row the first time), one transaction per
    day. Returns the days rolled."""
    day = daily_rollups.DAY_S
    with engine.begin() as conn:
        rolled = get_mark(conn, ROLLED_UNTIL)
        if rolled is None:
            return 0
        until = daily_rollups.day_start(rolled)
        lo = get_mark(conn, DAILY_UNTIL)
        if lo is None:
            oldest = oldest_hour(conn)
            lo = until if oldest is None else min(until, daily_rollups.day_start(oldest))
            set_mark(conn, DAILY_UNTIL, lo)
        agent_ids = list(conn.scalars(select(Agent.id).order_by(Agent.id)))
    days = 0
    while lo < until:
        with engine.begin() as conn:
            daily_rollups.roll_days(conn, lo, lo + day, agent_ids)
            set_mark(conn, DAILY_UNTIL, lo + day)
        lo += day
        days += 1
        if pace is not None:
            pace()
    return days


def note_late(conn: Connection, rows: Iterable[tuple], now: int) -> int:
    """Note the ``(agent, hour)`` of rows (``agent_id, ts, ...``) whose hour closed more
    than ``LATE_AFTER_S`` ago. Usually none qualify and nothing is written."""
    cut = late_before(now)
    late = {(r[0], r[1] - r[1] % HOUR_S) for r in rows if r[1] < cut}
    if not late:
        return 0
    verb = "INSERT OR IGNORE" if conn.dialect.name == "sqlite" else "INSERT IGNORE"
    values = ",".join(f"({int(a)},{int(h)})" for a, h in sorted(late))
    conn.exec_driver_sql(f"{verb} INTO telemetry_late_hours (agent_id, hour) VALUES {values}")
    return len(late)


def reroll_late_hours(engine: Engine, pace=None) -> int:
    """Re-roll the agents' hours that received late samples, one transaction per hour's
    notes (``AGENTS_PER_ROLL`` agents at most). The notes are deleted first, in the
    writer's order (agent ascending): a writer noting one of them again waits for this
    short commit and its note survives for the next pass. The notes are walked once in key
    order, so notes added meanwhile behind the cursor wait for the next pass instead of
    keeping this one going. Notes for hours not rolled yet are just dropped (the regular
    pass covers them), as are notes for hours whose raw samples are gone (re-rolling from
    what is left would lose the rollup). Returns how many agent-hours were re-rolled."""
    notes_table = TelemetryLateHour.__table__
    agent_c, hour_c = notes_table.c.agent_id, notes_table.c.hour
    with engine.connect() as conn:
        rolled = get_mark(conn, ROLLED_UNTIL) or 0
        horizon = get_mark(conn, RAW_HORIZON) or 0
    total = 0
    after = (-1, -1)
    while True:
        with engine.connect() as conn:
            notes = conn.execute(
                select(agent_c, hour_c)
                .where(or_(agent_c > after[0], and_(agent_c == after[0], hour_c > after[1])))
                .order_by(agent_c, hour_c)
                .limit(LATE_BATCH)
            ).all()
        if not notes:
            return total
        after = tuple(notes[-1])
        by_hour: dict[int, list[int]] = defaultdict(list)
        for agent_id, hour in notes:
            by_hour[hour].append(agent_id)
        for hour, agents in sorted(by_hour.items()):
            for start in range(0, len(agents), AGENTS_PER_ROLL):
                chunk = agents[start : start + AGENTS_PER_ROLL]
                with engine.begin() as conn:
                    conn.execute(notes_table.delete().where(hour_c == hour, agent_c.in_(chunk)))
                    if horizon <= hour < rolled:
                        roll(conn, hour, hour + HOUR_S, chunk)
                        total += len(chunk)
                if pace is not None:
                    pace()
        if len(notes) < LATE_BATCH:
            return total


def shift_history(engine: Engine, seconds: int) -> None:
    """After raw samples were moved ``seconds`` later (the demo fleet brought up to date):
    move the rollups by whole hours, then re-roll the hours raw samples cover so they agree
    with them exactly."""
    hours = int(seconds) // HOUR_S * HOUR_S
    with engine.begin() as conn:
        if hours:
            # (agent, hour) is the primary key: go through negative values, as for raw rows.
            for table in ("telemetry_hourly", "telemetry_branch_hourly"):
                conn.execute(text(f"UPDATE {table} SET hour = -(hour + :h)"), {"h": hours})
                conn.execute(text(f"UPDATE {table} SET hour = -hour"))
            # Whole hours do not keep days whole: housekeeping rolls the days again.
            conn.execute(text("DELETE FROM telemetry_daily"))
            conn.execute(delete(TelemetryMark).where(TelemetryMark.name == DAILY_UNTIL))
        rolled = get_mark(conn, ROLLED_UNTIL)
        if rolled is None:
            return
        set_mark(conn, ROLLED_UNTIL, rolled + hours)
        horizon = get_mark(conn, RAW_HORIZON)
        if horizon is not None:
            set_mark(conn, RAW_HORIZON, horizon + int(seconds))
        oldest = oldest_raw_ts(conn)
        if oldest is not None:
            roll(conn, hour_start(oldest), rolled + hours)
