"""The console straight on the database: ``argos_core`` services over a database URL.

A database URL is the operator's key to every tenant, so this backend is for superadmins
on the operator's side only; a client admin who signs in with one is sent to a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from argos_core.bootstrap import Services, open_services
from argos_core.errors import ScopeViolation
from argos_core.scope import Principal
from argos_core.services.alert_dto import AlertInfo, ChannelInfo, MaintenanceInfo, RuleInfo
from argos_core.services.dto import (
    AgentDetail,
    AgentSummary,
    AuditEntry,
    EnrollmentKeyInfo,
    IssuedKey,
    NodeSeries,
    OrgChoice,
    OrgKind,
    OrgNode,
    Page,
    SearchHit,
    SessionInfo,
    TelemetrySeries,
    TopAgent,
    UserInfo,
)
from argos_core.status import AgentStatus
from argos_desktop.backend.protocol import Identity, ServerHealth

CLIENT_ADMIN_NEEDS_SERVER = (
    "A database URL is for superadmins only; sign in with your Argos server's address"
    " (e.g. https://argos.example.com) instead."
)


def identity_of(principal: Principal, scope_name: str = "") -> Identity:
    return Identity(
        principal.username, principal.role, principal.level, principal.scope_org_id, scope_name
    )


class DirectBackend:
    """A ``ConsoleBackend`` over the services, on behalf of one principal."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self._services = services
        self._principal = principal

    # --- the organisation --------------------------------------------------------------------
    def list_children(
        self, parent_org_id: str | None = None, offset: int = 0, limit: int = 100
    ) -> Page[OrgNode]:
        return self._services.orgs.list_children(self._principal, parent_org_id, offset, limit)

    def get_node(self, org_id: str) -> OrgNode:
        return self._services.orgs.get_node(self._principal, org_id)

    def list_choices(
        self,
        kinds: Sequence[OrgKind] = ("tenant", "company", "branch"),
        text: str = "",
        limit: int = 500,
    ) -> list[OrgChoice]:
        return self._services.orgs.list_choices(self._principal, kinds, text, limit)

    def search(
        self, text: str, *, status: AgentStatus | str | None = None, limit: int = 200
    ) -> list[SearchHit]:
        return self._services.orgs.search(self._principal, text, status=status, limit=limit)

    def create_tenant(self, name: str) -> OrgNode:
        return self._services.orgs.create_tenant(self._principal, name)

    def create_company(self, tenant_org_id: str, name: str) -> OrgNode:
        return self._services.orgs.create_company(self._principal, tenant_org_id, name)

    def create_branch(self, company_org_id: str, name: str) -> OrgNode:
        return self._services.orgs.create_branch(self._principal, company_org_id, name)

    def rename_org(self, org_id: str, new_name: str) -> OrgNode:
        return self._services.orgs.rename(self._principal, org_id, new_name)

    def delete_org(self, org_id: str, *, force: bool = False) -> None:
        self._services.orgs.delete(self._principal, org_id, force=force)

    # --- agents ------------------------------------------------------------------------------
    def list_agents(
        self,
        org_id: str,
        *,
        offset: int = 0,
        limit: int = 100,
        sort_by: str = "hostname",
        descending: bool = False,
        status: AgentStatus | None = None,
        text: str = "",
    ) -> Page[AgentSummary]:
        return self._services.agents.list_agents(
            self._principal,
            org_id,
            offset=offset,
            limit=limit,
            sort_by=sort_by,
            descending=descending,
            status=status,
            text=text,
        )

    def get_agent(self, agent_uuid: str) -> AgentDetail:
        return self._services.agents.get_agent(self._principal, agent_uuid)

    def telemetry_range(
        self, agent_uuid: str, start: int, end: int, *, max_points: int = 2000
    ) -> TelemetrySeries:
        return self._services.telemetry.telemetry_range(
            self._principal, agent_uuid, start, end, max_points=max_points
        )

    def node_aggregate(
        self, org_id: str, start: int, end: int, *, max_points: int = 2000
    ) -> NodeSeries:
        return self._services.telemetry.node_aggregate(
            self._principal, org_id, start, end, max_points=max_points
        )

    def top_agents(
        self, org_id: str, metric: str, start: int, end: int, *, limit: int = 10
    ) -> list[TopAgent]:
        return self._services.telemetry.top_agents(
            self._principal, org_id, metric, start, end, limit=limit
        )

    def revoke_agent(self, agent_uuid: str) -> None:
        self._services.agents.revoke_agent(self._principal, agent_uuid)

    def move_agent(self, agent_uuid: str, branch_org_id: str) -> AgentSummary:
        return self._services.agents.move_agent(self._principal, agent_uuid, branch_org_id)

    def delete_agent(self, agent_uuid: str) -> None:
        self._services.agents.delete_agent(self._principal, agent_uuid)

    # --- enrollment keys ---------------------------------------------------------------------
    def list_keys(self, branch_org_id: str) -> list[EnrollmentKeyInfo]:
        return self._services.enrollment.list_keys(self._principal, branch_org_id)

    def issue_key(
        self,
        branch_org_id: str,
        *,
        expires_in: timedelta | None = timedelta(days=7),
        note: str = "",
    ) -> IssuedKey:
        return self._services.enrollment.issue_key(
            self._principal, branch_org_id, expires_in=expires_in, note=note
        )

    def revoke_key(self, key_id: int) -> None:
        self._services.enrollment.revoke_key(self._principal, key_id)

    # --- people ------------------------------------------------------------------------------
    def list_users(self, offset: int = 0, limit: int = 200) -> Page[UserInfo]:
        return self._services.users.list_users(self._principal, offset, limit)

    def create_user(
        self, *, username: str, password: str, role: str, scope_org_id: str
    ) -> UserInfo:
        return self._services.users.create_user(
            self._principal,
            username=username,
            password=password,
            role=role,
            scope_org_id=scope_org_id,
        )

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        scope_org_id: str | None = None,
        is_active: bool | None = None,
    ) -> UserInfo:
        return self._services.users.update_user(
            self._principal, username, role=role, scope_org_id=scope_org_id, is_active=is_active
        )

    def reset_password(self, username: str, new_password: str) -> None:
        self._services.users.reset_password(self._principal, username, new_password)

    def change_own_password(self, old_password: str, new_password: str) -> None:
        self._services.users.change_own_password(self._principal, old_password, new_password)

    def list_own_sessions(self) -> list[SessionInfo]:
        return self._services.own_sessions.list_sessions(self._principal)

    def end_own_session(self, session_id: str) -> None:
        self._services.own_sessions.end_session(self._principal, session_id)

    def list_superadmins(self) -> list[UserInfo]:
        return self._services.users.list_superadmins(self._principal)

    def add_superadmin(self, username: str, password: str) -> UserInfo:
        return self._services.users.add_superadmin(self._principal, username, password)

    def set_superadmin_active(self, username: str, active: bool) -> None:
        self._services.users.set_superadmin_active(self._principal, username, active)

    # --- audit log ---------------------------------------------------------------------------
    def audit_entries(
        self,
        *,
        offset: int = 0,
        limit: int = 200,
        action: str | None = None,
        text: str = "",
        sort_by: str = "at",
        descending: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEntry]:
        return self._services.audit.list_entries(
            self._principal,
            offset=offset,
            limit=limit,
            action=action,
            text=text,
            sort_by=sort_by,
            descending=descending,
            since=since,
            until=until,
        )

    def audit_actions(self) -> list[str]:
        return self._services.audit.list_actions(self._principal)

    # --- alerts ------------------------------------------------------------------------------
    def list_alerts(
        self,
        *,
        active: bool = True,
        node: str | None = None,
        severity: str | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> Page[AlertInfo]:
        return self._services.alerts.list_alerts(
            self._principal,
            active=active,
            node=node,
            severity=severity,
            offset=offset,
            limit=limit,
        )

    def acknowledge(
        self, alert_id: int, comment: str = "", until: datetime | None = None
    ) -> AlertInfo:
        return self._services.alerts.acknowledge(self._principal, alert_id, comment, until)

    def list_rules(self) -> list[RuleInfo]:
        return self._services.alerts.list_rules(self._principal)

    def create_rule(
        self,
        node: str,
        *,
        severity: str,
        condition: str = "threshold",
        metric: str | None = None,
        comparison: str | None = None,
        threshold: float | None = None,
        recover_at: float | None = None,
        for_s: int = 0,
        samples: int = 1,
    ) -> RuleInfo:
        return self._services.alerts.create_rule(
            self._principal,
            node,
            severity=severity,
            condition=condition,
            metric=metric,
            comparison=comparison,
            threshold=threshold,
            recover_at=recover_at,
            for_s=for_s,
            samples=samples,
        )

    def override_rule(
        self,
        rule_id: int,
        node: str,
        *,
        enabled: bool = True,
        threshold: float | None = None,
        recover_at: float | None = None,
        for_s: int | None = None,
        samples: int | None = None,
        severity: str | None = None,
    ) -> RuleInfo:
        return self._services.alerts.override_rule(
            self._principal,
            rule_id,
            node,
            enabled=enabled,
            threshold=threshold,
            recover_at=recover_at,
            for_s=for_s,
            samples=samples,
            severity=severity,
        )

    def set_rule_enabled(self, rule_id: int, enabled: bool) -> RuleInfo:
        return self._services.alerts.set_rule_enabled(self._principal, rule_id, enabled)

    def agent_rules(self, agent_uuid: str) -> list[RuleInfo]:
        return self._services.alerts.agent_rules(self._principal, agent_uuid)

    def list_channels(self) -> list[ChannelInfo]:
        return self._services.alerts.list_channels(self._principal)

    def create_channel(
        self, org_id: str, kind: str, target: str, min_severity: str = "warning"
    ) -> ChannelInfo:
        return self._services.alerts.create_channel(
            self._principal, org_id, kind, target, min_severity
        )

    def delete_channel(self, channel_id: int) -> None:
        self._services.alerts.delete_channel(self._principal, channel_id)

    def list_maintenance(self) -> list[MaintenanceInfo]:
        return self._services.alerts.list_maintenance(self._principal)

    def create_maintenance(
        self,
        node: str,
        start: datetime,
        duration_s: int,
        *,
        repeat: str = "none",
        timezone: str = "UTC",
        comment: str = "",
    ) -> MaintenanceInfo:
        return self._services.alerts.create_maintenance(
            self._principal,
            node,
            start,
            duration_s,
            repeat=repeat,
            timezone=timezone,
            comment=comment,
        )

    def delete_maintenance(self, window_id: int) -> None:
        self._services.alerts.delete_maintenance(self._principal, window_id)

    # --- the connection ----------------------------------------------------------------------
    def server_health(self) -> ServerHealth | None:
        return None  # no server in between: every call reaches the database itself

    def close(self) -> None:
        self._services.close()


def connect_direct(
    database_url: str, username: str, password: str, *, source: str
) -> tuple[DirectBackend, Identity]:
    """Blocking: open the database and sign in. Only superadmins may work this way."""
    services = open_services(database_url.strip())
    try:
        principal = services.users.authenticate(username, password, source=source)
        if not principal.is_superadmin:
            raise ScopeViolation(CLIENT_ADMIN_NEEDS_SERVER)
    except BaseException:
        services.close()
        raise
    return DirectBackend(services, principal), identity_of(principal)
