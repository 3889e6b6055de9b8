"""Telemetry reads for charts: never more points than the chart can show.

Two tiers answer: raw samples where they still exist and the range is short, hourly
rollups beyond. Hours not rolled up yet (the current one, the last few minutes after an
hour closed) are computed from raw samples with the rollup job's own query, so a rollup
range runs right up to now without a seam.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session, sessionmaker

from argos_core import rollups
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
TOP_METRICS = ("cpu_percent", "mem_percent", "disk_percent")
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
    ) -> TelemetrySeries:
        """The agent's telemetry with ``start <= ts < end`` (Unix seconds).

        Raw samples when the range is at most ``RAW_MAX_SPAN_S`` and starts after the raw
        horizon (averaged in equal buckets in the database when there are more than
        ``max_points``); hourly rollups otherwise, merged into larger buckets as needed.
        """
        start, end, max_points = _checked(start, end, max_points)
        with UnitOfWork(self._sf) as uow:
            agent = ScopedRepository(uow.session, principal).find_agent(agent_uuid)
            conn = uow.session.connection()
            horizon = rollups.get_mark(conn, rollups.RAW_HORIZON) or 0
            if end - start <= RAW_MAX_SPAN_S and start >= horizon:
                return self._raw(uow.session, agent.id, agent_uuid, start, end, max_points)
            hours = _hourly_rows(conn, [agent.id], start, end)
        series = _bucketed(_per_hour(hours), start, end, max_points)
        return TelemetrySeries(
            agent_uuid,
            start,
            end,
            series.bucket_s,
            series.ts,
            series.avg,
            "hourly",
            series.low,
            series.high,
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
            node_org_id, agent_ids = _node_agents(uow.session, principal, org_id)
            hours = _hourly_rows(uow.session.connection(), agent_ids, start, end)
        merged = _bucketed(_across_agents(hours), start, end, max_points)
        return NodeSeries(
            node_org_id,
            start,
            end,
            merged.bucket_s,
            merged.ts,
            merged.count,
            merged.avg,
            merged.high,
        )

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
        index = ROLLUP_METRICS.index(metric)
        with UnitOfWork(self._sf) as uow:
            _, agent_ids = _node_agents(uow.session, principal, org_id)
            hours = _hourly_rows(uow.session.connection(), agent_ids, start, end)
            totals: dict[int, list[float]] = {}
            for row in hours:
                avg, high = row[3 + 3 * index + 1], row[3 + 3 * index + 2]
                if avg is None:
                    continue
                total = totals.setdefault(row[0], [0.0, 0, float("-inf")])
                total[0] += avg * row[2]
                total[1] += row[2]
                total[2] = max(total[2], high)
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


def _node_agents(session: Session, principal: Principal, org_id: str) -> tuple[str, list[int]]:
    """The node's org id (in scope, else NotFound) and the ids of its agents the principal
    may see."""
    repo = ScopedRepository(session, principal)
    node = repo.find_org(org_id)
    column = {Tenant: Agent.tenant_id, Company: Agent.company_id, Branch: Agent.branch_id}[
        type(node)
    ]
    ids = list(session.scalars(repo.agents().with_only_columns(Agent.id).where(column == node.id)))
    return node.org_id, ids


def _hourly_rows(conn, agent_ids: Sequence[int], start: int, end: int) -> list[tuple]:
    """``(agent_id, hour, samples, min, avg, max, ...)`` for the hours touching
    ``[start, end)``: stored rollups before the ``rolled_until`` mark, computed from raw
    samples from there on."""
    if not agent_ids:
        return []
    lo, hi = rollups.hour_start(start), rollups.hour_start(end - 1) + HOUR_S
    rolled = rollups.get_mark(conn, rollups.ROLLED_UNTIL)
    split = lo if rolled is None else max(lo, min(hi, rolled))
    listed = ",".join(str(int(i)) for i in sorted(agent_ids))
    rows: list[tuple] = []
    if split > lo:
        columns = ", ".join(rollups.ROLLUP_COLUMNS)
        rows += conn.execute(
            text(
                f"SELECT {columns} FROM telemetry_hourly"
                f" WHERE agent_id IN ({listed}) AND hour >= :lo AND hour < :hi"
            ),
            {"lo": lo, "hi": split},
        ).all()
    if hi > split:
        sql = rollups.hourly_select(conn.dialect.name, f"AND a.id IN ({listed})")
        rows += conn.execute(text(sql), {"lo": split, "hi": hi}).all()
    return [tuple(r) for r in rows]


def _per_hour(rows: list[tuple]) -> dict[int, tuple[int, list]]:
    """One agent's rows by hour: ``hour -> (samples, [min, avg, max] * metrics)``."""
    return {int(r[1]): (int(r[2]), list(r[3:])) for r in rows}


def _across_agents(rows: list[tuple]) -> dict[int, tuple[int, list]]:
    """Several agents' rows merged per hour: average of the agents' averages, lowest
    minimum, highest maximum; the count is the number of agents that reported."""
    by_hour: dict[int, list[tuple]] = defaultdict(list)
    for r in rows:
        by_hour[int(r[1])].append(r)
    merged = {}
    for hour, group in by_hour.items():
        stats: list = []
        for i in range(_STATS):
            lows = [r[3 + 3 * i] for r in group if r[3 + 3 * i] is not None]
            avgs = [r[4 + 3 * i] for r in group if r[4 + 3 * i] is not None]
            highs = [r[5 + 3 * i] for r in group if r[5 + 3 * i] is not None]
            stats += [
                min(lows) if lows else None,
                sum(avgs) / len(avgs) if avgs else None,
                max(highs) if highs else None,
            ]
        merged[hour] = (len(group), stats)
    return merged


class _Buckets:
    def __init__(self, bucket_s: int) -> None:
        self.bucket_s = bucket_s
        self.ts: list[int] = []
        self.count: list[int] = []
        self.avg: dict[str, list] = {m: [] for m in ROLLUP_METRICS}
        self.low: dict[str, list] = {m: [] for m in ROLLUP_METRICS}
        self.high: dict[str, list] = {m: [] for m in ROLLUP_METRICS}


def _bucketed(
    hours: dict[int, tuple[int, list]], start: int, end: int, max_points: int
) -> _Buckets:
    """Hourly points, or buckets of whole hours when there would be more than
    ``max_points``: minimum of minima, maximum of maxima, averages weighted by count.
    A bucket's count is the highest hourly count in it."""
    lo = rollups.hour_start(start)
    n_hours = -(-(end - lo) // HOUR_S)
    per = max(1, -(-n_hours // max_points))
    out = _Buckets(per * HOUR_S)
    grouped: dict[int, list[tuple[int, list]]] = defaultdict(list)
    for hour in sorted(hours):
        grouped[lo + (hour - lo) // out.bucket_s * out.bucket_s].append(hours[hour])
    for key in sorted(grouped):
        group = grouped[key]
        out.ts.append(key)
        out.count.append(max(n for n, _ in group))
        for i, metric in enumerate(ROLLUP_METRICS):
            lows = [s[3 * i] for _, s in group if s[3 * i] is not None]
            pairs = [(s[3 * i + 1], n) for n, s in group if s[3 * i + 1] is not None]
            highs = [s[3 * i + 2] for _, s in group if s[3 * i + 2] is not None]
            weight = sum(n for _, n in pairs)
            out.low[metric].append(float(min(lows)) if lows else None)
            out.avg[metric].append(float(sum(v * n for v, n in pairs) / weight) if weight else None)
            out.high[metric].append(float(max(highs)) if highs else None)
    return out
