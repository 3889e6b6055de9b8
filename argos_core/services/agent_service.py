"""Agents: browse, inspect, revoke; and the credential lookup the ingest server needs."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker

from argos_core.branch_rollups import note_stale
from argos_core.errors import Conflict, ValidationError
from argos_core.models import Agent, Branch, Company, EnrollmentKey, Tenant, utcnow
from argos_core.repositories import (
    Ancestry,
    ScopedRepository,
    require_in_scope,
    short_page_total,
    substring_pattern,
)
from argos_core.scope import Principal
from argos_core.services import audit
from argos_core.services.dto import AgentDetail, AgentSummary, Page
from argos_core.settings import StatusPolicy
from argos_core.status import (
    ONLINE_CUTOFF,
    OVERDUE_CUTOFF,
    AgentStatus,
    agent_status,
    status_case,
    status_cutoffs,
)
from argos_core.telemetry_store import delete_history
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

SORT_COLUMNS = {
    "hostname": Agent.hostname,
    "os": Agent.os,
    "agent_version": Agent.agent_version,
    "last_seen": Agent.last_seen,
    "enrolled_at": Agent.enrolled_at,
}
MAX_PAGE = 1000
# What a summary shows: a page reads these columns only (building ORM objects with every
# column cost most of a 200-row page's time on the server), each row as one JSON array:
# PyMySQL decodes every column in pure Python (some five calls a column, a dozen more for a
# DATETIME), orjson a whole row in one call.
PAGE_ROW = func.json_array(
    Agent.uuid,
    Agent.hostname,
    Agent.os,
    Agent.agent_version,
    Agent.ip_addresses,
    Agent.last_seen,
    Agent.enrolled_at,
    Agent.revoked_at,
    Agent.source,
    Agent.branch_id,
)


@cache
def _page_statements(
    sort_by: str, descending: bool, *, by_status: bool, by_text: bool
) -> tuple[dict[str, Select], dict[str, Select]]:
    """A page of agents under a node (``PAGE_ROW``s) and their count, by the node's level,
    built once per kind of page. Parameters: ``node`` (its id), ``status``, ``pattern`` (LIKE,
    escape ``\\``), ``offset``, ``limit`` and the status cutoffs (``status_cutoffs``)."""
    state = status_case(ONLINE_CUTOFF, OVERDUE_CUTOFF)
    key = state if sort_by == "status" else SORT_COLUMNS[sort_by]
    # Ties go by id in the same direction: a descending page is the ascending one reversed,
    # and reads a node's (node, hostname) index backwards instead of sorting.
    order = (key.desc(), Agent.id.desc()) if descending else (key.asc(), Agent.id.asc())
    rows, counts = {}, {}
    for level in ("tenant", "company", "branch"):
        conditions = [getattr(Agent, f"{level}_id") == bindparam("node")]
        if by_status:
            conditions.append(state == bindparam("status"))
        if by_text:
            conditions.append(Agent.hostname.like(bindparam("pattern"), escape="\\"))
        rows[level] = (
            select(PAGE_ROW)
            .where(*conditions)
            .order_by(*order)
            .offset(bindparam("offset"))
            .limit(bindparam("limit"))
        )
        counts[level] = select(func.count()).select_from(Agent).where(*conditions)
    return rows, counts


class AgentService:
    def __init__(self, session_factory: sessionmaker[Session], policy: StatusPolicy) -> None:
        self._sf = session_factory
        self._policy = policy

    def list_agents(
        self,
        principal: Principal,
        org_id: str,
        *,
        offset: int = 0,
        limit: int = 100,
        sort_by: str = "hostname",
        descending: bool = False,
        status: AgentStatus | None = None,
        text: str = "",
    ) -> Page[AgentSummary]:
        """Agents anywhere under a tenant, company or branch, a page at a time."""
        if sort_by not in SORT_COLUMNS and sort_by != "status":
            raise ValidationError(f"Cannot sort agents by '{sort_by}'.")
        offset, limit = max(0, offset), max(1, min(limit, MAX_PAGE))
        text = text.strip()
        rows_query, count_query = _page_statements(
            sort_by, descending, by_status=status is not None, by_text=bool(text)
        )
        now = utcnow()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            node = repo.find_org(org_id)
            require_in_scope(principal, node)  # found in scope: so is every agent under it
            level = {Tenant: "tenant", Company: "company", Branch: "branch"}[type(node)]
            params = {
                "node": node.id,
                "status": status.value if status is not None else None,
                "pattern": substring_pattern(text),
                "offset": offset,
                "limit": limit,
                **status_cutoffs(now, self._policy),
            }
            rows = [orjson.loads(row) for row in uow.session.scalars(rows_query[level], params)]
            total = short_page_total(offset, limit, len(rows))
            if total is None:
                total = uow.session.scalar(count_query[level], params)
            labels = _branch_labels(uow.session, {row[-1] for row in rows})
            items = [self._page_summary(row, labels[row[-1]], now) for row in rows]
            return Page(items, total, offset)

    def get_agent(self, principal: Principal, agent_uuid: str) -> AgentDetail:
        with UnitOfWork(self._sf) as uow:
            agent = ScopedRepository(uow.session, principal).find_agent(agent_uuid)
            branch = uow.session.get(Branch, agent.branch_id)
            company = uow.session.get(Company, agent.company_id)
            tenant = uow.session.get(Tenant, agent.tenant_id)
            key = (
                uow.session.get(EnrollmentKey, agent.enrollment_key_id)
                if agent.enrollment_key_id
                else None
            )
            return AgentDetail(
                summary=self._summary(
                    agent, branch.org_id, branch.name, company.name, now=utcnow()
                ),
                machine_id=agent.machine_id,
                tenant_org_id=tenant.org_id,
                company_org_id=company.org_id,
                cpu_count=agent.cpu_count,
                memory_total_bytes=agent.memory_total_bytes,
                boot_time=agent.boot_time,
                report_interval_s=agent.report_interval_s,
                enrollment_key_id=agent.enrollment_key_id,
                enrollment_key_note=key.note if key else None,
                re_enrolled_at=agent.re_enrolled_at,
                re_enrolled_from=agent.re_enrolled_from,
                company_name=company.name,
                tenant_name=tenant.name,
            )

    @retrying(idempotent=True)
    def revoke_agent(self, principal: Principal, agent_uuid: str) -> None:
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            agent = ScopedRepository(uow.session, principal).find_agent(agent_uuid)
            if agent.revoked_at is None:
                agent.revoked_at = utcnow()
                audit.record(
                    uow.session,
                    principal,
                    "agent.revoke",
                    "agent",
                    agent.uuid,
                    Ancestry.of(agent),
                    after={"hostname": agent.hostname},
                )
            uow.commit()

    @retrying
    def delete_agent(self, principal: Principal, agent_uuid: str) -> None:
        """Delete an agent and all its telemetry."""
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            agent = ScopedRepository(uow.session, principal).find_agent(agent_uuid)
            where = Ancestry.of(agent)
            before = {"hostname": agent.hostname, "machine_id": agent.machine_id}
            delete_history(uow.session, [agent.id])
            uow.session.delete(agent)
            audit.record(
                uow.session, principal, "agent.delete", "agent", agent_uuid, where, before=before
            )
            uow.commit()

    @retrying
    def move_agent(self, principal: Principal, agent_uuid: str, branch_org_id: str) -> AgentSummary:
        """Move an agent (with its history) to another branch inside the caller's scope."""
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            agent = repo.find_agent(agent_uuid)
            target = repo.find_branch(branch_org_id)
            source = uow.session.get(Branch, agent.branch_id)
            if target.id == agent.branch_id:
                raise ValidationError("The agent is already in that branch.")
            clash = uow.session.scalar(
                select(Agent.id).where(
                    Agent.branch_id == target.id, Agent.machine_id == agent.machine_id
                )
            )
            if clash:
                raise Conflict("That branch already has an agent for the same machine.")
            # The agent takes its history along: both branches' node-tier rows go stale.
            note_stale(uow.session, [agent.id], int(time.time()))
            agent.tenant_id, agent.company_id, agent.branch_id = (
                target.tenant_id,
                target.company_id,
                target.id,
            )
            uow.session.flush()
            note_stale(uow.session, [agent.id], int(time.time()))
            audit.record(
                uow.session,
                principal,
                "agent.move",
                "agent",
                agent.uuid,
                Ancestry.of(agent),
                before={"branch": source.org_id},
                after={"branch": target.org_id},
            )
            uow.commit()
            return self._summary(agent, target.org_id, target.name, now=utcnow())

    def _page_summary(
        self, row: list[Any], where: tuple[str, str, str], now: datetime
    ) -> AgentSummary:
        """From a ``PAGE_ROW`` array and the labels of its branch."""
        uuid, hostname, os, version, addresses, last_seen, enrolled_at, revoked_at, source, _ = row
        if isinstance(addresses, str):  # SQLite hands a JSON column to json_array as text
            addresses = orjson.loads(addresses)
        seen, revoked = _instant(last_seen), _instant(revoked_at)
        return AgentSummary(
            uuid=uuid,
            hostname=hostname,
            branch_org_id=where[0],
            os=os,
            agent_version=version,
            ip_addresses=addresses or [],
            status=agent_status(seen, revoked, now, self._policy),
            last_seen=seen,
            enrolled_at=datetime.fromisoformat(enrolled_at).replace(tzinfo=UTC),
            revoked_at=revoked,
            branch_name=where[1],
            source=source,
            company_name=where[2],
        )

    def _summary(
        self,
        agent: Agent,
        branch_org_id: str,
        branch_name: str,
        company_name: str = "",
        *,
        now: datetime,
    ) -> AgentSummary:
        return AgentSummary(
            uuid=agent.uuid,
            hostname=agent.hostname,
            branch_org_id=branch_org_id,
            os=agent.os,
            agent_version=agent.agent_version,
            ip_addresses=list(agent.ip_addresses or []),
            status=agent_status(agent.last_seen, agent.revoked_at, now, self._policy),
            last_seen=agent.last_seen,
            enrolled_at=agent.enrolled_at,
            revoked_at=agent.revoked_at,
            branch_name=branch_name,
            source=agent.source,
            company_name=company_name,
        )


def _instant(text: str | None) -> datetime | None:
    """A DATETIME as the database writes it in JSON ("2026-11-30 22:18:29.000000", UTC)."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _branch_labels(session: Session, branch_ids: set[int]) -> dict[int, tuple[str, str, str]]:
    """(org id, name, company name) of each branch: read once per page, not once per row."""
    if not branch_ids:
        return {}
    rows = session.execute(_BRANCH_LABELS, {"ids": sorted(branch_ids)})
    return {branch_id: (org_id, name, company) for branch_id, org_id, name, company in rows}


_BRANCH_LABELS = (
    select(Branch.id, Branch.org_id, Branch.name, Company.name)
    .join(Company, Company.id == Branch.company_id)
    .where(Branch.id.in_(bindparam("ids", expanding=True)))
)
