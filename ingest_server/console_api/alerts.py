"""Alerts: the problems list and its history, acknowledgement, alert rules, notification
channels and maintenance windows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from argos_core.errors import NotFound
from argos_core.services.alert_dto import AlertInfo, ChannelInfo, MaintenanceInfo, RuleInfo
from argos_core.services.dto import Page
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import Operation, bounded

MAX_ID = 2**53


def row_id(handler: ConsoleHandler, text: str, what: str) -> int:
    """A row id from the path; anything else answers like an unknown row."""
    if not text.isdigit() or int(text) > MAX_ID:
        raise handler._error(NotFound(f"No {what} {text}."))
    return int(text)


@dataclass(frozen=True)
class AlertsQuery:
    active: bool = bounded(True, description="open and acknowledged (true) or resolved (false)")
    node: str | None = bounded(None, max_length=100, description="an org id or agent id")
    severity: Literal["warning", "critical"] | None = None
    offset: int = bounded(0, minimum=0, maximum=2**31 - 1)
    limit: int = bounded(200, minimum=1, maximum=1000)


@dataclass(frozen=True)
class Acknowledgement:
    comment: str = bounded("", max_length=500)
    until: datetime | None = field(
        default=None, metadata={"description": "when the acknowledgement lapses (RFC 3339)"}
    )


@dataclass(frozen=True)
class NewRule:
    node: str = bounded(max_length=100, description="an org id or agent id")
    severity: Literal["warning", "critical"]
    condition: Literal["threshold", "offline", "overdue"] = "threshold"
    metric: str | None = bounded(None, max_length=32)
    comparison: Literal["above", "below"] | None = None
    threshold: float | None = None
    recover_at: float | None = None
    for_s: int = bounded(0, minimum=0, maximum=7 * 86400)
    samples: int = bounded(1, minimum=1, maximum=100)


class AlertsHandler(ConsoleHandler):
    path = "/alerts"
    tag = "alerts"
    operations = {
        "get": Operation(
            "Alerts in the caller's scope, newest first",
            answer=Page[AlertInfo],
            query=AlertsQuery,
            etag=True,
            errors=(400, 401, 404),
        )
    }

    async def get(self) -> None:
        q = self.query()
        await self.reply(
            self.api.ctx.services.alerts.list_alerts,
            active=q.active,
            node=q.node,
            severity=q.severity,
            offset=q.offset,
            limit=q.limit,
        )


class AcknowledgeHandler(ConsoleHandler):
    path = "/alerts/{alert_id}/acknowledge"
    path_params = {"alert_id": int}
    tag = "alerts"
    operations = {
        "post": Operation(
            "Acknowledge an alert, with a comment and optionally until when",
            answer=AlertInfo,
            body=Acknowledgement,
            errors=(400, 401, 403, 404, 409),
        )
    }

    async def post(self, alert_id: str) -> None:
        ident = row_id(self, alert_id, "alert")
        body = self.body()
        await self.reply(self.api.ctx.services.alerts.acknowledge, ident, body.comment, body.until)


class RulesHandler(ConsoleHandler):
    path = "/alert-rules"
    tag = "alerts"
    operations = {
        "get": Operation(
            "Alert rules in the caller's scope and those inherited from above it",
            answer=list[RuleInfo],
            errors=(401,),
        ),
        "post": Operation(
            "Create an alert rule on a node (inherited by everything under it)",
            answer=RuleInfo,
            status=201,
            body=NewRule,
            errors=(400, 401, 403, 404),
        ),
    }

    async def get(self) -> None:
        await self.reply(self.api.ctx.services.alerts.list_rules)

    async def post(self) -> None:
        b = self.body()
        await self.reply(
            self.api.ctx.services.alerts.create_rule,
            b.node,
            severity=b.severity,
            condition=b.condition,
            metric=b.metric,
            comparison=b.comparison,
            threshold=b.threshold,
            recover_at=b.recover_at,
            for_s=b.for_s,
            samples=b.samples,
        )


@dataclass(frozen=True)
class NewOverride:
    node: str = bounded(max_length=100, description="an org id or agent id below the rule's node")
    enabled: bool = bounded(True, description="false: the rule is off for the subtree")
    threshold: float | None = None
    recover_at: float | None = None
    for_s: int | None = bounded(None, minimum=0, maximum=7 * 86400)
    samples: int | None = bounded(None, minimum=1, maximum=100)
    severity: Literal["warning", "critical"] | None = None


@dataclass(frozen=True)
class RuleSwitch:
    enabled: bool


class RuleHandler(ConsoleHandler):
    path = "/alert-rules/{rule_id}"
    path_params = {"rule_id": int}
    tag = "alerts"
    operations = {
        "patch": Operation(
            "Switch a rule of the caller's scope on or off",
            answer=RuleInfo,
            body=RuleSwitch,
            errors=(400, 401, 403, 404),
        )
    }

    async def patch(self, rule_id: str) -> None:
        ident = row_id(self, rule_id, "alert rule")
        enabled = self.body().enabled
        await self.reply(self.api.ctx.services.alerts.set_rule_enabled, ident, enabled)


class OverridesHandler(ConsoleHandler):
    path = "/alert-rules/{rule_id}/overrides"
    path_params = {"rule_id": int}
    tag = "alerts"
    operations = {
        "post": Operation(
            "Change a rule, or switch it off, for the subtree of a node below the rule's own",
            answer=RuleInfo,
            status=201,
            body=NewOverride,
            errors=(400, 401, 403, 404),
        )
    }

    async def post(self, rule_id: str) -> None:
        ident = row_id(self, rule_id, "alert rule")
        b = self.body()
        await self.reply(
            self.api.ctx.services.alerts.override_rule,
            ident,
            b.node,
            enabled=b.enabled,
            threshold=b.threshold,
            recover_at=b.recover_at,
            for_s=b.for_s,
            samples=b.samples,
            severity=b.severity,
        )


class AgentRulesHandler(ConsoleHandler):
    path = "/agents/{agent_uuid}/alert-rules"
    tag = "alerts"
    operations = {
        "get": Operation(
            "The rules in force on an agent, each as the deepest override on its path says",
            answer=list[RuleInfo],
            errors=(400, 401, 404),
        )
    }

    async def get(self, agent_uuid: str) -> None:
        await self.reply(self.api.ctx.services.alerts.agent_rules, agent_uuid)


@dataclass(frozen=True)
class NewChannel:
    org_id: str = bounded(max_length=100)
    kind: Literal["webhook", "email"]
    target: str = bounded(max_length=500, description="an http(s) URL or an e-mail address")
    min_severity: Literal["warning", "critical"] = "warning"


@dataclass(frozen=True)
class NewWindow:
    node: str = bounded(max_length=100, description="an org id or agent id")
    start: datetime = field(metadata={"description": "RFC 3339; converted to local time"})
    duration_s: int = bounded(minimum=1, maximum=7 * 86400)
    repeat: Literal["none", "daily", "weekly"] = "none"
    timezone: str = bounded("UTC", max_length=64, description="IANA zone of the local time")
    comment: str = bounded("", max_length=200)


class ChannelsHandler(ConsoleHandler):
    path = "/alert-channels"
    tag = "alerts"
    operations = {
        "get": Operation(
            "Notification channels in the caller's scope", answer=list[ChannelInfo], errors=(401,)
        ),
        "post": Operation(
            "Send a node's alerts to a webhook or an e-mail address",
            answer=ChannelInfo,
            status=201,
            body=NewChannel,
            errors=(400, 401, 403, 404),
        ),
    }

    async def get(self) -> None:
        await self.reply(self.api.ctx.services.alerts.list_channels)

    async def post(self) -> None:
        b = self.body()
        create = self.api.ctx.services.alerts.create_channel
        await self.reply(create, b.org_id, b.kind, b.target, b.min_severity)


class MaintenanceHandler(ConsoleHandler):
    path = "/maintenance-windows"
    tag = "alerts"
    operations = {
        "get": Operation(
            "Maintenance windows in the caller's scope",
            answer=list[MaintenanceInfo],
            etag=True,
            errors=(401,),
        ),
        "post": Operation(
            "A one-time, daily or weekly window without notifications under a node",
            answer=MaintenanceInfo,
            status=201,
            body=NewWindow,
            errors=(400, 401, 403, 404),
        ),
    }

    async def get(self) -> None:
        await self.reply(self.api.ctx.services.alerts.list_maintenance)

    async def post(self) -> None:
        b = self.body()
        await self.reply(
            self.api.ctx.services.alerts.create_maintenance,
            b.node,
            b.start,
            b.duration_s,
            repeat=b.repeat,
            timezone=b.timezone,
            comment=b.comment,
        )


class ChannelHandler(ConsoleHandler):
    path = "/alert-channels/{channel_id}"
    path_params = {"channel_id": int}
    tag = "alerts"
    operations = {
        "delete": Operation(
            "Stop sending alerts to a channel (its unsent notifications go with it)",
            errors=(401, 403, 404),
        )
    }

    async def delete(self, channel_id: str) -> None:
        ident = row_id(self, channel_id, "notification channel")
        await self.reply(self.api.ctx.services.alerts.delete_channel, ident)


class MaintenanceWindowHandler(ConsoleHandler):
    path = "/maintenance-windows/{window_id}"
    path_params = {"window_id": int}
    tag = "alerts"
    operations = {
        "delete": Operation(
            "End a maintenance window now (a recurring one with all its repeats)",
            errors=(401, 403, 404),
        )
    }

    async def delete(self, window_id: str) -> None:
        ident = row_id(self, window_id, "maintenance window")
        await self.reply(self.api.ctx.services.alerts.delete_maintenance, ident)


default_handlers = [
    AlertsHandler,
    AcknowledgeHandler,
    RulesHandler,
    RuleHandler,
    OverridesHandler,
    AgentRulesHandler,
    ChannelsHandler,
    ChannelHandler,
    MaintenanceHandler,
    MaintenanceWindowHandler,
]
