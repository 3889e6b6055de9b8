"""Telemetry reads for charts: never more points than the chart can show.

Two tiers answer: raw samples where they still exist and the range is short, hourly
rollups beyond; a node's aggregates read its branches' hourly rows (the node tier). Hours
not rolled up yet (the current one, the last few minutes after an hour closed) are
computed from raw samples with the rollup job's own query, so a rollup range runs right up
to now without a seam.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session, sessionmaker

from argos_core import branch_rollups, daily_rollups, rollups
from argos_core.errors import ValidationError
from argos_core.models import ROLLUP_METRICS, Agent, Branch, Company, Telemetry, Tenant
from argos_core.repositories import ScopedRepository
from argos_core.scope import Principal
from argos_core.services.dto import METRICS, NodeSeries, TelemetrySeries, TopAgent
from argos_core.unit_of_work import UnitOfWork

MAX_POINTS = 20_000
# Multiplying by a double literal makes MySQL average in floating point; AVG of a BIGINT
# would come back as DECIMAL, which PyMySQL decodes slowly.
DOUBLE_ONE = literal_column("1e0")
MAX_RANGE_S = 400 * 86400
# Raw samples answer ranges up to this long (when they reach back far enough).
RAW_MAX_SPAN_S = 14 * 86400
HOUR_S = rollups.HOUR_S
TOP_METRICS = daily_rollups.RANKED
MAX_TOP = 100
# One hourly row: hour, samples, then (min, avg, max) per ROLLUP_METRICS.
_STATS = len(ROLLUP_METRICS)


class TelemetryService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory

    def telemetry_range(
        self,
        principal: Principal,
        agent_uuid: str,
        start: int,
        end: int,
        *,
        max_points: int = 2000,
        resolution: Literal["auto", "raw", "hourly"] = "auto",
    ) -> TelemetrySeries:
        """The agent's telemetry with ``start <= ts < end`` (Unix seconds).

        Raw samples when the range is at most ``RAW_MAX_SPAN_S`` and starts after the raw
        horizon (averaged in equal buckets in the database when there are more than
        ``max_points``); hourly rollups otherwise, merged into larger buckets as needed.
        ``resolution`` forces one tier.
        """
        if resolution not in ("auto", "raw", "hourly"):
            raise ValidationError("The resolution must be auto, raw or hourly.")
        start, end, max_points = _checked(start, end, max_points)
        with UnitOfWork(self._sf) as uow:
            agent = ScopedRepository(uow.session, principal).find_agent(agent_uuid)
            conn = uow.session.connection()
            horizon = rollups.get_mark(conn, rollups.RAW_HORIZON) or 0
            raw = end - start <= RAW_MAX_SPAN_S and start >= horizon
            if resolution == "raw" or (resolution == "auto" and raw):
                return self._raw(uow.session, agent.id, agent_uuid, start, end, max_points)
            buckets = _hourly(conn, agent.id, start, end, max_points)
        ts, _, avg, low, high = buckets.series()
        return TelemetrySeries(
            agent_uuid, start, end, buckets.bucket_s, ts, avg, "hourly", low, high
        )

    def node_aggregate(
        self,
        principal: Principal,
        org_id: str,
        start: int,
        end: int,
        *,
        max_points: int = 2000,
    ) -> NodeSeries:
        """A tenant's, company's or branch's agents together from the hourly tier: per
        metric the average across agents and the highest value of any, and how many agents
        reported, per hour (or larger buckets)."""
        start, end, max_points = _checked(start, end, max_points)
        with UnitOfWork(self._sf) as uow:
            node_org_id, members = _node_members(uow.session, principal, org_id)
            buckets = _node_hourly(uow.session.connection(), members, start, end, max_points)
        ts, counts, avg, _, high = buckets.series()
        return NodeSeries(node_org_id, start, end, buckets.bucket_s, ts, counts, avg, high)

    def top_agents(
        self,
        principal: Principal,
        org_id: str,
        metric: str,
        start: int,
        end: int,
        *,
        limit: int = 10,
    ) -> list[TopAgent]:
        """The node's agents with the highest average of ``metric`` over the range."""
        if metric not in TOP_METRICS:
            raise ValidationError(f"Agents can be ranked by {', '.join(TOP_METRICS)} only.")
        start, end, _ = _checked(start, end, 10)
        limit = max(1, min(int(limit), MAX_TOP))
        with UnitOfWork(self._sf) as uow:
            _, members = _node_members(uow.session, principal, org_id)
            agent_ids = [a for agents in members.values() for a in agents]
            totals = _agent_totals(uow.session.connection(), agent_ids, metric, start, end)
            ranked = sorted(totals.items(), key=lambda kv: -kv[1][0] / kv[1][1])[:limit]
            names = {
                r.id: (r.uuid, r.hostname, r.org_id)
                for r in uow.session.execute(
                    select(Agent.id, Agent.uuid, Agent.hostname, Branch.org_id)
                    .join(Branch, Branch.id == Agent.branch_id)
                    .where(Agent.id.in_([agent_id for agent_id, _ in ranked]))
                )
            }
        return [
            TopAgent(*names[agent_id], total[0] / total[1], total[2])
            for agent_id, total in ranked
            if agent_id in names
        ]

    def _raw(
        self,
        session: Session,
        agent_id: int,
        agent_uuid: str,
        start: int,
        end: int,
        max_points: int,
    ) -> TelemetrySeries:
        in_range = (Telemetry.agent_id == agent_id) & (Telemetry.ts >= start) & (Telemetry.ts < end)
        columns = [getattr(Telemetry, m) for m in METRICS]
        span = end - start
        bucket = 0
        if span > max_points:
            # ts is unique per agent and second, so only longer ranges can overflow.
            bucket = -(-span // max_points)
            # Buckets are aligned on the range start, so the range spans at most max_points.
            key = (Telemetry.ts - ((Telemetry.ts - start) % bucket)).label("bucket")
            rows = session.execute(
                select(key, *[func.avg(c * DOUBLE_ONE) for c in columns])
                .where(in_range)
                .group_by(literal_column("bucket"))
                .order_by(literal_column("bucket"))
            ).all()
        else:
            rows = session.execute(
                select(Telemetry.ts, *columns).where(in_range).order_by(Telemetry.ts)
            ).all()
        ts = [int(r[0]) for r in rows]
        metrics = {
            m: [None if r[i + 1] is None else float(r[i + 1]) for r in rows]
            for i, m in enumerate(METRICS)
        }
        return TelemetrySeries(agent_uuid, start, end, bucket, ts, metrics)


def _checked(start: int, end: int, max_points: int) -> tuple[int, int, int]:
    start, end = int(start), int(end)
    if end <= start:
        raise ValidationError("The end of the range must come after its start.")
    if end - start > MAX_RANGE_S:
        raise ValidationError("Ranges may span at most 400 days.")
    return start, end, max(10, min(int(max_points), MAX_POINTS))


def _node_members(
    session: Session, principal: Principal, org_id: str
) -> tuple[str, dict[int, list[int]]]:
    """The node's org id (in scope, else NotFound) and the ids of its agents the principal
    may see, by branch."""
    repo = ScopedRepository(session, principal)
    node = repo.find_org(org_id)
    column = {Tenant: Agent.tenant_id, Company: Agent.company_id, Branch: Agent.branch_id}[
        type(node)
    ]
    members: dict[int, list[int]] = defaultdict(list)
    for agent_id, branch_id in session.execute(
        repo.agents().with_only_columns(Agent.id, Agent.branch_id).where(column == node.id)
    ):
        members[branch_id].append(agent_id)
    return node.org_id, dict(members)


class _Buckets:
    """Hourly tier points being built: per bucket a count, and per metric the lowest
    minimum, a weighted sum and weight of the averages, and the highest maximum."""

    def __init__(self, lo: int, bucket_s: int, by_agents: bool) -> None:
        self.lo = lo
        self.bucket_s = bucket_s
        self.by_agents = by_agents
        self.cells: dict[int, list] = {}
        # Node series: agents reporting per hour; a longer bucket shows its busiest hour.
        self.hour_agents: dict[int, int] = defaultdict(int)

    def key_of(self, hour: int) -> int:
        return hour - (hour - self.lo) % self.bucket_s

    def key_sql(self) -> str:
        return f"hour - (hour - {self.lo}) % {self.bucket_s}"

    def weight_sql(self) -> str:
        """Agent series weigh each hour by its samples; node series each agent-hour alike."""
        return "1e0" if self.by_agents else "samples * 1e0"

    def add_agents(self, hour: int, agents: int) -> None:
        """Node series: agents reporting in an hour, from one chunk (chunks add up)."""
        self.hour_agents[int(hour)] += int(agents)

    def add_stored(self, row: Sequence) -> None:
        """``key, count, (min, weighted sum, weight, max) * metrics`` from the database,
        for one chunk of agents or branches (chunks are disjoint: counts add up); node
        series give their counts per hour to ``add_agents`` instead."""
        key = int(row[0])
        cell = self.cells.get(key)
        if cell is None:
            self.cells[key] = [row[1], *row[2:]]
            return
        cell[0] = (cell[0] or 0) + (row[1] or 0)
        for i in range(_STATS):
            at = 1 + 4 * i
            low, wsum, weight, high = row[at + 1 : at + 5]
            if low is not None:
                cell[at] = low if cell[at] is None else min(cell[at], low)
            cell[at + 1] = (cell[at + 1] or 0.0) + (wsum or 0.0)
            cell[at + 2] = (cell[at + 2] or 0.0) + (weight or 0.0)
            if high is not None:
                cell[at + 3] = high if cell[at + 3] is None else max(cell[at + 3], high)

    def add_hour(self, row: Sequence) -> None:
        """An hourly row ``agent_id, hour, samples, (min, avg, max) * metrics``."""
        key = self.key_of(int(row[1]))
        weight = 1.0 if self.by_agents else float(row[2])
        cell = self.cells.setdefault(key, [0] + [None, 0.0, 0.0, None] * _STATS)
        if self.by_agents:
            self.hour_agents[int(row[1])] += 1
        else:
            cell[0] = (cell[0] or 0) + row[2]
        for i in range(_STATS):
            low, avg, high = row[3 + 3 * i : 6 + 3 * i]
            at = 1 + 4 * i
            if low is not None:
                cell[at] = low if cell[at] is None else min(cell[at], low)
            if avg is not None:
                cell[at + 1] = (cell[at + 1] or 0.0) + avg * weight
                cell[at + 2] = (cell[at + 2] or 0.0) + weight
            if high is not None:
                cell[at + 3] = high if cell[at + 3] is None else max(cell[at + 3], high)

    def series(self) -> tuple[list[int], list[int], dict, dict, dict]:
        """``ts, counts, averages, minima, maxima`` in time order."""
        keys = sorted(self.cells)
        low: dict[str, list] = {m: [] for m in ROLLUP_METRICS}
        avg: dict[str, list] = {m: [] for m in ROLLUP_METRICS}
        high: dict[str, list] = {m: [] for m in ROLLUP_METRICS}
        for key in keys:
            cell = self.cells[key]
            for i, metric in enumerate(ROLLUP_METRICS):
                at = 1 + 4 * i
                low[metric].append(_float(cell[at]))
                weight = cell[at + 2]
                avg[metric].append(float(cell[at + 1]) / float(weight) if weight else None)
                high[metric].append(_float(cell[at + 3]))
        if self.by_agents:
            for hour, agents in self.hour_agents.items():
                cell = self.cells[self.key_of(hour)]
                cell[0] = max(cell[0] or 0, agents)
        return keys, [int(self.cells[k][0] or 0) for k in keys], avg, low, high


def _float(value) -> float | None:
    return None if value is None else float(value)


def _hourly(conn, agent_id: int, start: int, end: int, max_points: int) -> _Buckets:
    """An agent's hourly tier for ``[start, end)`` in buckets of whole hours (no more than
    ``max_points``), merged in the database: stored rollups before the ``rolled_until``
    mark, and from there hours computed from raw samples with the rollup job's query."""
    buckets, lo, split, hi = _bounds(conn, start, end, max_points, by_agents=False)
    _add_chunk(conn, buckets, [agent_id], lo, split, hi, by_agents=False)
    return buckets


def _node_hourly(
    conn, members: dict[int, list[int]], start: int, end: int, max_points: int
) -> _Buckets:
    """``_hourly`` for a node's agents, reading the node tier: a branch's rows before the
    ``rolled_until`` mark stand for its agents' rows, except in a branch noted stale (an
    agent moved or deleted), read from its agents' rows until housekeeping rebuilds it."""
    buckets, lo, split, hi = _bounds(conn, start, end, max_points, by_agents=True)
    if not members:
        return buckets
    stale = branch_rollups.stale_branches(conn, list(members), lo, split)
    for chunk in _chunks([b for b in members if b not in stale]):
        _add_branches(conn, buckets, chunk, lo, split)
    for chunk in _chunks([a for b in stale for a in members[b]]):
        _add_chunk(conn, buckets, chunk, lo, split, split, by_agents=True)
    for chunk in _chunks([a for agents in members.values() for a in agents]):
        _add_chunk(conn, buckets, chunk, split, split, hi, by_agents=True)
    return buckets


def _bounds(
    conn, start: int, end: int, max_points: int, by_agents: bool
) -> tuple[_Buckets, int, int, int]:
    """Empty buckets for ``[start, end)``, and the whole hours ``lo <= split <= hi`` it
    covers: stored rollups answer before ``split``, raw samples from there."""
    lo, hi = rollups.hour_start(start), rollups.hour_start(end - 1) + HOUR_S
    per = max(1, -(-((hi - lo) // HOUR_S) // max_points))
    rolled = rollups.get_mark(conn, rollups.ROLLED_UNTIL)
    split = lo if rolled is None else max(lo, min(hi, rolled))
    return _Buckets(lo, per * HOUR_S, by_agents), lo, split, hi


def _add_branches(conn, buckets: _Buckets, chunk: list[int], lo: int, hi: int) -> None:
    """The branches' node-tier rows of ``lo <= hour < hi``: the stats summed per bucket,
    agents reporting per hour (two narrow results: decoding rows is most of the time)."""
    if hi <= lo:
        return
    stats = []
    for metric in ROLLUP_METRICS:
        stats += [
            f"MIN({metric}_min)",
            f"SUM({metric}_sum)",
            f"SUM({metric}_n * 1e0)",
            f"MAX({metric}_max)",
        ]
    listed = ",".join(str(i) for i in chunk)
    where = (
        f" FROM telemetry_branch_hourly WHERE branch_id IN ({listed})"
        " AND hour >= :lo AND hour < :hi"
    )
    params = {"lo": lo, "hi": hi}
    for row in conn.execute(
        text(f"SELECT {buckets.key_sql()} AS bucket, 0, {', '.join(stats)}{where} GROUP BY bucket"),
        params,
    ):
        buckets.add_stored(row)
    for hour, agents in conn.execute(
        text(f"SELECT hour, SUM(agents * 1e0){where} GROUP BY hour"), params
    ):
        buckets.add_agents(hour, int(agents))


def _chunks(agent_ids: Sequence[int]) -> list[list[int]]:
    """Agent ids in sorted chunks short enough to be read as primary-key ranges."""
    ids = sorted(int(i) for i in agent_ids)
    step = rollups.AGENTS_PER_ROLL
    return [ids[i : i + step] for i in range(0, len(ids), step)]


def _add_chunk(
    conn, buckets: _Buckets, chunk: list[int], lo: int, split: int, hi: int, by_agents: bool
) -> None:
    listed = ",".join(str(i) for i in chunk)
    if split > lo:
        weight = buckets.weight_sql()
        stats = []
        for metric in ROLLUP_METRICS:
            stats += [
                f"MIN({metric}_min)",
                f"SUM({metric}_avg * {weight})",
                f"SUM(CASE WHEN {metric}_avg IS NOT NULL THEN {weight} END)",
                f"MAX({metric}_max)",
            ]
        where = (
            f" FROM telemetry_hourly WHERE agent_id IN ({listed}) AND hour >= :lo AND hour < :hi"
        )
        count = "0" if by_agents else "SUM(samples)"
        for row in conn.execute(
            text(
                f"SELECT {buckets.key_sql()} AS bucket, {count}, {', '.join(stats)}{where}"
                " GROUP BY bucket"
            ),
            {"lo": lo, "hi": split},
        ):
            buckets.add_stored(row)
        if by_agents:
            # An agent has one row an hour.
            for hour, agents in conn.execute(
                text(f"SELECT hour, COUNT(*){where} GROUP BY hour"), {"lo": lo, "hi": split}
            ):
                buckets.add_agents(hour, agents)
    if hi > split:
        for row in conn.execute(text(rollups.hourly_select(chunk)), {"lo": split, "hi": hi}):
            buckets.add_hour(row)


def _agent_totals(
    conn, agent_ids: Sequence[int], metric: str, start: int, end: int
) -> dict[int, list]:
    """Per agent: the sample-weighted sum of ``metric``'s hourly averages, the weight, and
    the highest maximum, over the hours touching ``[start, end)``: whole days the daily
    tier holds from it, the other rolled hours from the hourly tier, the rest from raw
    samples."""
    lo, hi = rollups.hour_start(start), rollups.hour_start(end - 1) + HOUR_S
    totals: dict[int, list] = {}
    if not agent_ids:
        return totals
    rolled = rollups.get_mark(conn, rollups.ROLLED_UNTIL)
    split = lo if rolled is None else max(lo, min(hi, rolled))
    day = daily_rollups.DAY_S
    first_day = -(-lo // day) * day
    last_day = daily_rollups.day_start(min(split, rollups.get_mark(conn, rollups.DAILY_UNTIL) or 0))
    hourly = [(lo, split)]
    if last_day > first_day:
        hourly = [(lo, first_day), (last_day, split)]
    for chunk in _chunks(agent_ids):
        if last_day > first_day:
            _add_totals(conn, totals, chunk, _daily_totals_sql(metric), first_day, last_day)
        for a, b in hourly:
            if b > a:
                _add_totals(conn, totals, chunk, _hourly_totals_sql(metric), a, b)
        if hi > split:
            _add_raw_totals(conn, totals, chunk, metric, split, hi)
    return totals


def _hourly_totals_sql(metric: str) -> str:
    return (
        f"SELECT agent_id, SUM({metric}_avg * samples * 1e0),"
        f" SUM(CASE WHEN {metric}_avg IS NOT NULL THEN samples * 1e0 END),"
        f" MAX({metric}_max) FROM telemetry_hourly WHERE agent_id IN ({{ids}})"
        " AND hour >= :lo AND hour < :hi GROUP BY agent_id"
    )


def _daily_totals_sql(metric: str) -> str:
    return (
        f"SELECT agent_id, SUM({metric}_wsum), SUM({metric}_weight * 1e0), MAX({metric}_max)"
        " FROM telemetry_daily WHERE agent_id IN ({ids}) AND day >= :lo AND day < :hi"
        " GROUP BY agent_id"
    )


def _add_total(totals: dict[int, list], agent_id: int, wsum, weight, high) -> None:
    if not weight:
        return
    total = totals.setdefault(int(agent_id), [0.0, 0.0, None])
    total[0] += float(wsum)
    total[1] += float(weight)
    if high is not None:
        total[2] = float(high) if total[2] is None else max(total[2], float(high))


def _add_totals(
    conn, totals: dict[int, list], chunk: list[int], sql: str, lo: int, hi: int
) -> None:
    listed = ",".join(str(i) for i in chunk)
    for agent_id, wsum, weight, high in conn.execute(
        text(sql.replace("{ids}", listed)), {"lo": lo, "hi": hi}
    ):
        _add_total(totals, agent_id, wsum, weight, high)


def _add_raw_totals(
    conn, totals: dict[int, list], chunk: list[int], metric: str, lo: int, hi: int
) -> None:
    index = ROLLUP_METRICS.index(metric)
    for row in conn.execute(text(rollups.hourly_select(chunk)), {"lo": lo, "hi": hi}):
        avg, high = row[4 + 3 * index], row[5 + 3 * index]
        if avg is not None:
            _add_total(totals, row[0], avg * row[2], row[2], high)
