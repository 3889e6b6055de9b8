"""A tenant's, company's or branch's agents together: aggregate series and top agents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from argos_core.services.dto import NodeSeries, TopAgent
from argos_core.services.telemetry_service import MAX_TOP
from ingest_server.console_api.agents import READ_ERRORS, TelemetryQuery
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import SINCE, UNTIL, Instant, Operation, bounded

RankedMetric = Literal["cpu_percent", "mem_percent", "disk_percent"]


@dataclass(frozen=True)
class TopAgentsQuery:
    metric: RankedMetric
    since: Instant = field(metadata={"description": SINCE})
    until: Instant = field(metadata={"description": UNTIL})
    limit: int = bounded(10, minimum=1, maximum=MAX_TOP)


class NodeAggregateHandler(ConsoleHandler):
    path = "/orgs/{org_id}/telemetry"
    tag = "telemetry"
    operations = {
        "get": Operation(
            "Per metric the average across the node's agents and the highest of any, and how"
            " many agents reported, per hour (or in larger buckets to stay within `points`)",
            answer=NodeSeries,
            query=TelemetryQuery,
            errors=READ_ERRORS,
        )
    }

    async def get(self, org_id: str) -> None:
        q = self.query()
        start, end = int(q.since.timestamp()), int(q.until.timestamp())
        aggregate = self.api.ctx.services.telemetry.node_aggregate
        await self.reply(aggregate, org_id, start, end, max_points=q.points)


class TopAgentsHandler(ConsoleHandler):
    path = "/orgs/{org_id}/top-agents"
    tag = "telemetry"
    operations = {
        "get": Operation(
            "The node's agents with the highest average of a metric over the range",
            answer=list[TopAgent],
            query=TopAgentsQuery,
            errors=READ_ERRORS,
        )
    }

    async def get(self, org_id: str) -> None:
        q = self.query()
        start, end = int(q.since.timestamp()), int(q.until.timestamp())
        top = self.api.ctx.services.telemetry.top_agents
        await self.reply(top, org_id, q.metric, start, end, limit=q.limit)


default_handlers = [NodeAggregateHandler, TopAgentsHandler]
