"""Telemetry reads for charts: never more points than the chart can show."""

from __future__ import annotations

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session, sessionmaker

from argos_core.errors import ValidationError
from argos_core.models import Telemetry
from argos_core.repositories import ScopedRepository
from argos_core.scope import Principal
from argos_core.services.dto import METRICS, TelemetrySeries
from argos_core.unit_of_work import UnitOfWork

MAX_POINTS = 20_000
# Multiplying by a double literal makes MySQL average in floating point; AVG of a BIGINT
# would come back as DECIMAL, which PyMySQL decodes slowly.
DOUBLE_ONE = literal_column("1e0")
MAX_RANGE_S = 400 * 86400


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
        """Samples with ``start <= ts < end`` (Unix seconds).

        When the range holds more samples than ``max_points`` could show, samples are
        averaged into equal time buckets in the database, so the answer stays small
        however long the range.
        """
        start, end = int(start), int(end)
        if end <= start:
            raise ValidationError("The end of the range must come after its start.")
        if end - start > MAX_RANGE_S:
            raise ValidationError("Ranges may span at most 400 days.")
        max_points = max(10, min(int(max_points), MAX_POINTS))
        with UnitOfWork(self._sf) as uow:
            agent = ScopedRepository(uow.session, principal).find_agent(agent_uuid)
            in_range = (
                (Telemetry.agent_id == agent.id) & (Telemetry.ts >= start) & (Telemetry.ts < end)
            )
            columns = [getattr(Telemetry, m) for m in METRICS]
            span = end - start
            bucket = 0
            if span > max_points:
                # ts is unique per agent and second, so only longer ranges can overflow.
                bucket = -(-span // max_points)
                # Buckets are aligned on the range start, so the range spans at most max_points.
                key = (Telemetry.ts - ((Telemetry.ts - start) % bucket)).label("bucket")
                rows = uow.session.execute(
                    select(key, *[func.avg(c * DOUBLE_ONE) for c in columns])
                    .where(in_range)
                    .group_by(literal_column("bucket"))
                    .order_by(literal_column("bucket"))
                ).all()
            else:
                rows = uow.session.execute(
                    select(Telemetry.ts, *columns).where(in_range).order_by(Telemetry.ts)
                ).all()
        ts = [int(r[0]) for r in rows]
        metrics = {
            m: [None if r[i + 1] is None else float(r[i + 1]) for r in rows]
            for i, m in enumerate(METRICS)
        }
        return TelemetrySeries(agent_uuid, start, end, bucket, ts, metrics)
