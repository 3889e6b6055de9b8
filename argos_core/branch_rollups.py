"""The node tier: hourly rows per branch, built from the agents' hourly rows.

A company of 1,000 agents over 30 days is 720,000 agent-hours but only 10 branches x 720
hours here. Each branch-hour holds, per metric, the lowest minimum, the highest maximum,
and the sum and count of the agents' hourly averages, so sums over branches give exactly
the average across agents that the agents' rows give (each agent-hour weighs the same).

The rollup job rebuilds a branch-hour whenever it writes an agent-hour of it (the regular
pass, late samples), in the same transaction. An agent that moves to another branch or is
deleted takes its whole history with it: both branches are noted stale over that history
(``telemetry_stale_branches``), reads take a stale branch from the agents' rows, and
housekeeping rebuilds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from argos_core.models import ROLLUP_METRICS, Agent, Branch, TelemetryStaleBranch

HOUR_S = 3600
# Literal IN lists stay below MariaDB's in_predicate_conversion_threshold (1000), as for
# the agents' rollups: each agent's hours are then read as one primary-key range.
IDS_PER_STATEMENT = 500
# A stale branch is rebuilt a week of hours per statement.
REBUILD_SPAN_S = 7 * 86400
STATS = ("min", "sum", "n", "max")
BRANCH_COLUMNS = ["branch_id", "hour", "agents"] + [
    f"{m}_{s}" for m in ROLLUP_METRICS for s in STATS
]


def _sources() -> list[str]:
    """What each of ``BRANCH_COLUMNS`` after ``branch_id, hour`` sums up from
    ``telemetry_hourly h`` (averages in double precision, as the agents' path reads them)."""
    exprs = ["COUNT(*)"]
    for m in ROLLUP_METRICS:
        exprs += [
            f"MIN(h.{m}_min)",
            f"COALESCE(SUM(h.{m}_avg * 1e0), 0)",
            f"COUNT(h.{m}_avg)",
            f"MAX(h.{m}_max)",
        ]
    return exprs


def _merges(dialect: str) -> str:
    """How a partial row (another chunk of the same branch's agents) merges into the stored
    one: counts and sums add, minima and maxima keep the extreme (NULL meaning none)."""
    table = "telemetry_branch_hourly"
    new = "excluded.{}" if dialect == "sqlite" else "VALUES({})"
    sets = []
    for column in BRANCH_COLUMNS[2:]:
        old, incoming = f"{table}.{column}", new.format(column)
        if column.endswith("_min") or column.endswith("_max"):
            better = "<" if column.endswith("_min") else ">"
            sets.append(
                f"{column} = CASE WHEN {old} IS NULL OR {incoming} {better} {old}"
                f" THEN {incoming} ELSE {old} END"
            )
        else:
            sets.append(f"{column} = {old} + {incoming}")
    conflict = (
        "ON CONFLICT (branch_id, hour) DO UPDATE SET"
        if dialect == "sqlite"
        else ("ON DUPLICATE KEY UPDATE")
    )
    return f"{conflict} {', '.join(sets)}"


def roll_branches(
    conn: Connection, lo: int, hi: int, branch_ids: Iterable[int] | None = None
) -> None:
    """Rebuild the branch rows of ``lo <= hour < hi`` from the agents' hourly rows (of the
    given branches, else all). Idempotent: the range is deleted first, then filled
    ``IDS_PER_STATEMENT`` agents at a time (a branch split over two statements merges)."""
    if branch_ids is None:
        branch_ids = conn.scalars(select(Branch.id).order_by(Branch.id))
    wanted = sorted(set(branch_ids))
    params = {"lo": int(lo), "hi": int(hi)}
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        listed = ",".join(str(int(b)) for b in wanted[start : start + IDS_PER_STATEMENT])
        conn.execute(
            text(
                "DELETE FROM telemetry_branch_hourly"
                f" WHERE branch_id IN ({listed}) AND hour >= :lo AND hour < :hi"
            ),
            params,
        )
    if not wanted:
        return
    agents = []
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        agents += conn.scalars(
            select(Agent.id).where(Agent.branch_id.in_(wanted[start : start + IDS_PER_STATEMENT]))
        )
    agents.sort()
    insert = (
        f"INSERT INTO telemetry_branch_hourly ({', '.join(BRANCH_COLUMNS)})"
        f" SELECT a.branch_id, h.hour, {', '.join(_sources())}"
        " FROM telemetry_hourly h JOIN agents a ON a.id = h.agent_id"
        " WHERE h.agent_id IN ({ids}) AND h.hour >= :lo AND h.hour < :hi"
        f" GROUP BY a.branch_id, h.hour {_merges(conn.dialect.name)}"
    )
    for start in range(0, len(agents), IDS_PER_STATEMENT):
        listed = ",".join(str(int(a)) for a in agents[start : start + IDS_PER_STATEMENT])
        conn.execute(text(insert.replace("{ids}", listed)), params)


def branches_of(conn: Connection, agent_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    wanted = sorted(set(agent_ids))
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        found.update(
            conn.scalars(
                select(Agent.branch_id)
                .where(Agent.id.in_(wanted[start : start + IDS_PER_STATEMENT]))
                .distinct()
            )
        )
    return found


def note_stale(db: Connection | Session, agent_ids: Iterable[int], now: int) -> None:
    """Note the agents' current branches stale over the agents' rolled-up history, up to
    the hour after ``now`` (an hour a running rollup pass may be writing). Call it before an
    agent leaves a branch and again once it is in the new one; and before deleting it."""
    wanted = sorted(set(agent_ids))
    until = int(now) // HOUR_S * HOUR_S + 2 * HOUR_S
    spans: dict[int, int] = {}
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        listed = ",".join(str(int(a)) for a in wanted[start : start + IDS_PER_STATEMENT])
        for branch_id, since in db.execute(
            text(
                "SELECT a.branch_id, MIN((SELECT MIN(h.hour) FROM telemetry_hourly h"
                f" WHERE h.agent_id = a.id)) FROM agents a WHERE a.id IN ({listed})"
                " GROUP BY a.branch_id"
            )
        ):
            if since is not None:
                spans[branch_id] = min(int(since), spans.get(branch_id, until))
    if not spans:
        return
    sqlite = db.get_bind().dialect.name == "sqlite"
    low, high = ("MIN", "MAX") if sqlite else ("LEAST", "GREATEST")
    new = "excluded.{}" if sqlite else "VALUES({})"
    upsert = "ON CONFLICT (branch_id) DO UPDATE SET" if sqlite else "ON DUPLICATE KEY UPDATE"
    values = ",".join(f"({int(b)},{since},{until})" for b, since in sorted(spans.items()))
    db.execute(
        text(
            f"INSERT INTO telemetry_stale_branches (branch_id, since, until) VALUES {values}"
            f" {upsert} since = {low}(telemetry_stale_branches.since, {new.format('since')}),"
            f" until = {high}(telemetry_stale_branches.until, {new.format('until')})"
        )
    )


def stale_branches(conn: Connection, branch_ids: Sequence[int], lo: int, hi: int) -> set[int]:
    """Which of the branches have rows in ``lo <= hour < hi`` that are not to be trusted."""
    if hi <= lo or not branch_ids:
        return set()
    table = TelemetryStaleBranch.__table__
    return set(
        conn.scalars(
            select(table.c.branch_id).where(
                table.c.branch_id.in_(sorted(set(branch_ids))),
                table.c.since < hi,
                table.c.until > lo,
            )
        )
    )


def rebuild_stale(engine: Engine, pace: Callable[[], None] | None = None) -> int:
    """Rebuild each stale branch over its noted hours, one transaction per branch; the
    note is deleted first, so a move noting it again meanwhile waits and stays noted.
    Returns the branches rebuilt."""
    table = TelemetryStaleBranch.__table__
    with engine.connect() as conn:
        noted = list(conn.scalars(select(table.c.branch_id).order_by(table.c.branch_id)))
    done = 0
    for branch_id in noted:
        with engine.begin() as conn:
            note = conn.execute(
                select(table.c.since, table.c.until).where(table.c.branch_id == branch_id)
            ).one_or_none()
            if note is None:
                continue
            conn.execute(table.delete().where(table.c.branch_id == branch_id))
            for lo in range(int(note.since), int(note.until), REBUILD_SPAN_S):
                roll_branches(conn, lo, min(lo + REBUILD_SPAN_S, int(note.until)), [branch_id])
        done += 1
        if pace is not None:
            pace()
    return done
