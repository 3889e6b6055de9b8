"""Agents: tables under a node, detail, telemetry ranges, revoke, move, delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from argos_core.services.agent_service import MAX_PAGE
from argos_core.services.dto import AgentDetail, AgentSummary, Page, TelemetrySeries
from argos_core.services.telemetry_service import MAX_POINTS
from argos_core.status import AgentStatus
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import SINCE, UNTIL, Instant, Operation, bounded

READ_ERRORS = (400, 401, 404)
WRITE_ERRORS = (400, 401, 403, 404, 409)
SortKey = Literal["hostname", "os", "agent_version", "last_seen", "enrolled_at", "status"]


@dataclass(frozen=True)
class AgentsQuery:
    offset: int = bounded(0, minimum=0, maximum=2**31 - 1)
    limit: int = bounded(100, minimum=1, maximum=MAX_PAGE)
    sort_by: SortKey = "hostname"
    descending: bool = False
    status: AgentStatus | None = None
    text: str = bounded("", max_length=200)


@dataclass(frozen=True)
class TelemetryQuery:
    since: Instant = field(metadata={"description": SINCE})
    until: Instant = field(metadata={"description": UNTIL})
    points: int = bounded(2000, minimum=10, maximum=MAX_POINTS)


@dataclass(frozen=True)
class MoveBody:
    branch_org_id: str = bounded(max_length=100)


class AgentsHandler(ConsoleHandler):
    path = "/orgs/{org_id}/agents"
    tag = "agents"
    operations = {
        "get": Operation(
            "Agents anywhere under a tenant, company or branch, a page at a time",
            answer=Page[AgentSummary],
            query=AgentsQuery,
            etag=True,
            errors=READ_ERRORS,
        )
    }

    async def get(self, org_id: str) -> None:
        q = self.query()
        await self.reply(
            self.api.ctx.services.agents.list_agents,
            org_id,
            offset=q.offset,
            limit=q.limit,
            sort_by=q.sort_by,
            descending=q.descending,
            status=q.status,
            text=q.text,
        )


class AgentHandler(ConsoleHandler):
    path = "/agents/{agent_uuid}"
    tag = "agents"
    operations = {
        "get": Operation("An agent's detail", answer=AgentDetail, errors=READ_ERRORS),
        "delete": Operation("Delete an agent and its telemetry", errors=WRITE_ERRORS),
    }

    async def get(self, agent_uuid: str) -> None:
        await self.reply(self.api.ctx.services.agents.get_agent, agent_uuid)

    async def delete(self, agent_uuid: str) -> None:
        await self.reply(self.api.ctx.services.agents.delete_agent, agent_uuid)


class TelemetryRangeHandler(ConsoleHandler):
    path = "/agents/{agent_uuid}/telemetry"
    tag = "agents"
    operations = {
        "get": Operation(
            "Samples in [since, until); long ranges come averaged into at most `points` buckets",
            answer=TelemetrySeries,
            query=TelemetryQuery,
            errors=READ_ERRORS,
        )
    }

    async def get(self, agent_uuid: str) -> None:
        q = self.query()
        start, end = int(q.since.timestamp()), int(q.until.timestamp())
        telemetry_range = self.api.ctx.services.telemetry.telemetry_range
        await self.reply(telemetry_range, agent_uuid, start, end, max_points=q.points)


class RevokeAgentHandler(ConsoleHandler):
    path = "/agents/{agent_uuid}/revoke"
    tag = "agents"
    operations = {
        "post": Operation("Revoke an agent: its token stops working", errors=WRITE_ERRORS)
    }

    async def post(self, agent_uuid: str) -> None:
        await self.reply(self.api.ctx.services.agents.revoke_agent, agent_uuid)


class MoveAgentHandler(ConsoleHandler):
    path = "/agents/{agent_uuid}/move"
    tag = "agents"
    operations = {
        "post": Operation(
            "Move an agent to another branch",
            answer=AgentSummary,
            body=MoveBody,
            errors=WRITE_ERRORS,
        )
    }

    async def post(self, agent_uuid: str) -> None:
        move = self.api.ctx.services.agents.move_agent
        await self.reply(move, agent_uuid, self.body().branch_org_id)


default_handlers = [
    AgentsHandler,
    AgentHandler,
    TelemetryRangeHandler,
    RevokeAgentHandler,
    MoveAgentHandler,
]
