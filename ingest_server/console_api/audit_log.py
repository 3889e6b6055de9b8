"""The audit log, scoped like everything else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from argos_core.services.dto import AuditEntry, Page
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import SINCE, UNTIL, Instant, Operation, bounded


@dataclass(frozen=True)
class AuditQuery:
    offset: int = bounded(0, minimum=0, maximum=2**31 - 1)
    limit: int = bounded(200, minimum=1, maximum=1000)
    action: str | None = bounded(None, max_length=64)
    text: str = bounded("", max_length=200)
    sort_by: Literal["at", "actor", "action", "target", "source"] = "at"
    descending: bool = True
    since: Instant | None = field(default=None, metadata={"description": SINCE})
    until: Instant | None = field(default=None, metadata={"description": UNTIL})


class AuditHandler(ConsoleHandler):
    path = "/audit"
    tag = "audit"
    operations = {
        "get": Operation(
            "Audit entries in the caller's scope, newest first by default",
            answer=Page[AuditEntry],
            query=AuditQuery,
            errors=(400, 401),
        )
    }

    async def get(self) -> None:
        q = self.query()
        await self.reply(
            self.api.ctx.services.audit.list_entries,
            offset=q.offset,
            limit=q.limit,
            action=q.action,
            text=q.text,
            sort_by=q.sort_by,
            descending=q.descending,
            since=q.since,
            until=q.until,
        )


class AuditActionsHandler(ConsoleHandler):
    path = "/audit/actions"
    tag = "audit"
    operations = {
        "get": Operation(
            "The actions found in the caller's audit log", answer=list[str], errors=(401,)
        )
    }

    async def get(self) -> None:
        await self.reply(self.api.ctx.services.audit.list_actions)


default_handlers = [AuditHandler, AuditActionsHandler]
