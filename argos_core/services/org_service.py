"""Tenants, companies and branches: create, rename, delete, browse, search."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Executable,
    String,
    bindparam,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from argos_core import org_ids
from argos_core.errors import ArgosError, Conflict, DuplicateName, ScopeViolation
from argos_core.models import Agent, Branch, Company, OrgIdRegistry, Tenant, User, utcnow
from argos_core.repositories import (
    Ancestry,
    OrgRow,
    ScopedRepository,
    name_matches,
    org_id_or_name_matches,
    require_in_scope,
)
from argos_core.scope import Principal
from argos_core.services import audit
from argos_core.services.dto import (
    OrgChoice,
    OrgKind,
    OrgNode,
    Page,
    SearchHit,
    StatusCounts,
)
from argos_core.services.org_contents import contents_phrase
from argos_core.services.validation import clean_name
from argos_core.settings import StatusPolicy
from argos_core.status import (
    ONLINE_CUTOFF,
    OVERDUE_CUTOFF,
    AgentStatus,
    agent_status,
    status_case,
    status_cutoffs,
    status_expression,
    status_ranges,
)
from argos_core.telemetry_store import delete_history
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

ORG_ID_ATTEMPTS = 25
MAX_PAGE = 500
# Digits and dots (IPv4) or hex digits with a colon (IPv6): also searched in addresses.
ADDRESS_FRAGMENT = re.compile(r"[0-9.]+|[0-9a-fA-F.]*:[0-9a-fA-F:.]*")


def kind_of(row: OrgRow) -> OrgKind:
    return {Tenant: "tenant", Company: "company", Branch: "branch"}[type(row)]  # type: ignore[return-value]


@cache
def _count_statement(level: str) -> Executable:
    """Agents by status under the nodes ``ids`` of a level (``tenant_id``, ``company_id`` or
    ``branch_id``), the cutoffs as parameters (``status_cutoffs``)."""
    level_col = getattr(Agent, level)
    nodes = level_col.in_(bindparam("ids", expanding=True))
    if level == "branch_id":
        status = status_case(ONLINE_CUTOFF, OVERDUE_CUTOFF).label("status")
        return select(level_col, status, func.count()).where(nodes).group_by(level_col, status)
    return union_all(
        *(
            select(level_col, literal(state.value), func.count())
            .where(nodes, condition)
            .group_by(level_col)
            for state, condition in status_ranges(ONLINE_CUTOFF, OVERDUE_CUTOFF).items()
        )
    )


# Children of nodes ``ids`` by parent (the nodes checked in scope: so are their children).
_COMPANIES_OF = (
    select(Company.tenant_id, func.count())
    .where(Company.tenant_id.in_(bindparam("ids", expanding=True)))
    .group_by(Company.tenant_id)
)
_BRANCHES_OF = (
    select(Branch.company_id, func.count())
    .where(Branch.company_id.in_(bindparam("ids", expanding=True)))
    .group_by(Branch.company_id)
)


def allocate_org_id(
    session: Session, kind: str, generate: Callable[[], str] = org_ids.generate
) -> str:
    """Claim a fresh org id. The registry's primary key arbitrates races between processes."""
    for _ in range(ORG_ID_ATTEMPTS):
        candidate = generate()
        try:
            with session.begin_nested():
                session.add(OrgIdRegistry(org_id=candidate, kind=kind))
        except IntegrityError:
            continue
        return candidate
    raise ArgosError("Could not allocate a unique org id; try again.")


class OrgService:
    def __init__(self, session_factory: sessionmaker[Session], policy: StatusPolicy) -> None:
        self._sf = session_factory
        self._policy = policy

    # --- changes ---------------------------------------------------------------------------

    @retrying
    def create_tenant(self, principal: Principal, name: str) -> OrgNode:
        principal.require_superadmin()
        clean = clean_name(name, "Tenant name")
        with UnitOfWork(self._sf) as uow:
            self._refuse_duplicate(uow.session, select(Tenant.id), Tenant.name, clean, "tenant")
            row = self._insert(uow.session, Tenant(name=clean), "tenant")
            audit.record(
                uow.session,
                principal,
                "tenant.create",
                "tenant",
                row.org_id,
                Ancestry.of(row),
                after={"name": clean},
            )
            uow.commit()
            return self._node(row, None, 0, StatusCounts())

    @retrying
    def create_company(self, principal: Principal, tenant_org_id: str, name: str) -> OrgNode:
        principal.require_write()
        clean = clean_name(name, "Company name")
        with UnitOfWork(self._sf) as uow:
            tenant = ScopedRepository(uow.session, principal).find_tenant(tenant_org_id)
            self._refuse_duplicate(
                uow.session,
                select(Company.id).where(Company.tenant_id == tenant.id),
                Company.name,
                clean,
                "company in this tenant",
            )
            row = self._insert(uow.session, Company(name=clean, tenant_id=tenant.id), "company")
            audit.record(
                uow.session,
                principal,
                "company.create",
                "company",
                row.org_id,
                Ancestry.of(row),
                after={"name": clean},
            )
            uow.commit()
            return self._node(row, tenant.org_id, 0, StatusCounts())

    @retrying
    def create_branch(self, principal: Principal, company_org_id: str, name: str) -> OrgNode:
        principal.require_write()
        clean = clean_name(name, "Branch name")
        with UnitOfWork(self._sf) as uow:
            company = ScopedRepository(uow.session, principal).find_company(company_org_id)
            self._refuse_duplicate(
                uow.session,
                select(Branch.id).where(Branch.company_id == company.id),
                Branch.name,
                clean,
                "branch in this company",
            )
            row = self._insert(
                uow.session,
                Branch(name=clean, tenant_id=company.tenant_id, company_id=company.id),
                "branch",
            )
            audit.record(
                uow.session,
                principal,
                "branch.create",
                "branch",
                row.org_id,
                Ancestry.of(row),
                after={"name": clean},
            )
            uow.commit()
            return self._node(row, company.org_id, 0, StatusCounts())

    @retrying(idempotent=True)
    def rename(self, principal: Principal, org_id: str, new_name: str) -> OrgNode:
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            row = repo.find_org(org_id)
            kind = kind_of(row)
            if kind == "tenant":
                principal.require_superadmin()
            clean = clean_name(new_name, f"{kind.capitalize()} name")
            model = type(row)
            siblings = select(model.id).where(model.id != row.id)
            if isinstance(row, Company):
                siblings = siblings.where(Company.tenant_id == row.tenant_id)
            elif isinstance(row, Branch):
                siblings = siblings.where(Branch.company_id == row.company_id)
            self._refuse_duplicate(uow.session, siblings, model.name, clean, kind)
            before = row.name
            row.name = clean
            try:
                uow.session.flush()
            except IntegrityError as exc:
                raise DuplicateName(f"A {kind} named '{clean}' already exists here.") from exc
            audit.record(
                uow.session,
                principal,
                f"{kind}.rename",
                kind,
                row.org_id,
                Ancestry.of(row),
                before={"name": before},
                after={"name": clean},
            )
            uow.commit()
        return self.get_node(principal, row.org_id)

    @retrying
    def delete(self, principal: Principal, org_id: str, *, force: bool = False) -> None:
        """Delete a node. With children or agents it needs ``force``; users keep it alive."""
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            session = uow.session
            row = ScopedRepository(uow.session, principal).find_org(org_id)
            kind = kind_of(row)
            where = Ancestry.of(row)
            if kind == "tenant":
                principal.require_superadmin()
            if self._is_scope_root(principal, where, kind):
                raise ScopeViolation("You cannot delete the node your own access is scoped to.")
            column = {"tenant": "tenant_id", "company": "company_id", "branch": "branch_id"}[kind]
            users = session.scalar(select(func.count()).where(getattr(User, column) == row.id))
            if users:
                raise Conflict(
                    f"{kind.capitalize()} '{row.name}' still has {users} user(s) scoped to it;"
                    " remove them first."
                )
            agents = session.scalar(select(func.count()).where(getattr(Agent, column) == row.id))
            companies = branches = 0
            if isinstance(row, Tenant):
                companies = session.scalar(select(func.count()).where(Company.tenant_id == row.id))
            if not isinstance(row, Branch):
                branches = session.scalar(
                    select(func.count()).where(getattr(Branch, column) == row.id)
                )
            if (agents or companies or branches) and not force:
                held = contents_phrase(companies, branches, agents)
                raise Conflict(
                    f"{kind.capitalize()} '{row.name}' still holds {held};"
                    " confirm to delete them all."
                )
            if agents:
                delete_history(
                    session,
                    session.scalars(select(Agent.id).where(getattr(Agent, column) == row.id)),
                )
            session.execute(delete(Agent).where(getattr(Agent, column) == row.id))
            if not isinstance(row, Branch):
                session.execute(delete(Branch).where(getattr(Branch, column) == row.id))
            if isinstance(row, Tenant):
                session.execute(delete(Company).where(Company.tenant_id == row.id))
            session.delete(row)
            audit.record(
                session,
                principal,
                f"{kind}.delete",
                kind,
                row.org_id,
                where,
                before={
                    "name": row.name,
                    "companies": companies,
                    "branches": branches,
                    "agents": agents,
                },
            )
            uow.commit()

    # --- reads -----------------------------------------------------------------------------

    def get_node(self, principal: Principal, org_id: str) -> OrgNode:
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            row = repo.find_org(org_id)
            return self._nodes(repo, [row])[0]

    def list_children(
        self,
        principal: Principal,
        parent_org_id: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[OrgNode]:
        """Roots (``parent_org_id=None``), a tenant's companies or a company's branches.

        A client admin's only root is their scope node. Agents of a branch come from
        ``AgentService.list_agents``.
        """
        offset, limit = max(0, offset), max(1, min(limit, MAX_PAGE))
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            parent = None
            if parent_org_id is None:
                query = self._roots(repo)
            else:
                parent = repo.find_org(parent_org_id)
                if isinstance(parent, Tenant):
                    query = repo.companies().where(Company.tenant_id == parent.id)
                elif isinstance(parent, Company):
                    query = repo.branches().where(Branch.company_id == parent.id)
                else:
                    return Page([], 0, offset)
            model = query.column_descriptions[0]["entity"]
            rows = uow.session.scalars(
                query.order_by(model.name, model.id).offset(offset).limit(limit)
            ).all()
            total = repo.page_total(query, offset, limit, len(rows))
            known_parent = parent.org_id if parent is not None else None
            return Page(self._nodes(repo, list(rows), known_parent), total, offset)

    def list_choices(
        self,
        principal: Principal,
        kinds: Sequence[OrgKind] = ("tenant", "company", "branch"),
        text: str = "",
        limit: int = MAX_PAGE,
    ) -> list[OrgChoice]:
        """Nodes in scope to pick from (a scope for a user, a branch to move an agent to)."""
        text = (text or "").strip()
        limit = max(1, min(limit, MAX_PAGE))
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            rows: list[OrgRow] = []
            for kind, model, query in (
                ("tenant", Tenant, repo.tenants()),
                ("company", Company, repo.companies()),
                ("branch", Branch, repo.branches()),
            ):
                if kind not in kinds or len(rows) >= limit:
                    continue
                if text:
                    query = query.where(org_id_or_name_matches(model, text))
                rows.extend(
                    uow.session.scalars(
                        query.order_by(model.name, model.id).limit(limit - len(rows))
                    )
                )
            choices = [
                OrgChoice(kind_of(row), row.org_id, row.name, " / ".join(n for _i, n in path))
                for row, path in zip(rows, self._paths(repo, rows), strict=True)
            ]
            return sorted(choices, key=lambda c: (c.path.lower(), c.name.lower(), c.org_id))

    def search(
        self,
        principal: Principal,
        text: str,
        *,
        status: AgentStatus | str | None = None,
        limit: int = 200,
    ) -> list[SearchHit]:
        """Nodes whose name or org id matches, and agents whose hostname matches (or, for
        text that looks like part of an IP address, one of their addresses), in scope.

        With ``status``, only agents in that status are returned (``text`` may then be empty).
        """
        text = (text or "").strip()
        state = AgentStatus(status) if status is not None else None
        limit = max(1, min(limit, MAX_PAGE))
        found: list[OrgRow | Agent] = []
        now = utcnow()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            if text and state is None:
                for model, scoped in (
                    (Tenant, repo.tenants()),
                    (Company, repo.companies()),
                    (Branch, repo.branches()),
                ):
                    if len(found) < limit:
                        found.extend(
                            uow.session.scalars(
                                scoped.where(org_id_or_name_matches(model, text))
                                .order_by(model.name)
                                .limit(limit - len(found))
                            )
                        )
            if (text or state is not None) and len(found) < limit:
                agents = repo.agents()
                if text and ADDRESS_FRAGMENT.fullmatch(text):  # "10.0.3", "fe80::1"
                    agents = agents.where(
                        or_(
                            name_matches(Agent.hostname, text),
                            name_matches(cast(Agent.ip_addresses, String), text),
                        )
                    )
                elif text:
                    agents = agents.where(name_matches(Agent.hostname, text))
                if state is not None:
                    agents = agents.where(status_expression(now, self._policy) == state.value)
                # Pick ids first (an index-only scan for hostname search), then load the rows.
                ids = list(
                    uow.session.scalars(
                        agents.with_only_columns(Agent.id)
                        .order_by(Agent.hostname, Agent.id)
                        .limit(limit - len(found))
                    )
                )
                by_id = (
                    {a.id: a for a in uow.session.scalars(select(Agent).where(Agent.id.in_(ids)))}
                    if ids
                    else {}
                )
                found.extend(by_id[i] for i in ids)
            hits = []
            for row, path in zip(found, self._paths(repo, found), strict=True):
                ids, names = [i for i, _n in path], [n for _i, n in path]
                if isinstance(row, Agent):
                    state = agent_status(row.last_seen, row.revoked_at, now, self._policy)
                    hits.append(SearchHit("agent", row.uuid, row.hostname, ids, state, names))
                else:
                    hits.append(SearchHit(kind_of(row), row.org_id, row.name, ids, None, names))
            return hits

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _refuse_duplicate(session: Session, siblings, column, name: str, what: str) -> None:
        if session.scalar(siblings.where(func.lower(column) == name.lower()).limit(1)):
            raise DuplicateName(f"A {what} named '{name}' already exists.")

    @staticmethod
    def _insert(session: Session, row: OrgRow, kind: str) -> OrgRow:
        row.org_id = allocate_org_id(session, kind)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError as exc:
            raise DuplicateName(f"A {kind} named '{row.name}' already exists.") from exc
        return row

    @staticmethod
    def _is_scope_root(principal: Principal, where: Ancestry, kind: str) -> bool:
        if principal.is_superadmin or principal.level != kind:
            return False
        return (where.tenant_id, where.company_id, where.branch_id) == (
            principal.tenant_id,
            principal.company_id,
            principal.branch_id,
        )

    def _roots(self, repo: ScopedRepository):
        p = repo.principal
        if p.is_superadmin or p.level == "tenant":
            return repo.tenants()
        if p.level == "company":
            return repo.companies().where(Company.id == p.company_id)
        return repo.branches().where(Branch.id == p.branch_id)

    def _paths(
        self, repo: ScopedRepository, rows: Sequence[OrgRow | Agent]
    ) -> list[list[tuple[str, str]]]:
        """For each row, (org id, name) from the principal's root down to the row's parent."""
        depth_of_row = {Tenant: 0, Company: 1, Branch: 2}
        top = {"platform": 0, "tenant": 0, "company": 1, "branch": 2}[repo.principal.level]
        chains = []
        wanted: dict[type[OrgRow], set[int]] = {Tenant: set(), Company: set(), Branch: set()}
        for row in rows:
            where = Ancestry.of(row)
            levels = [
                (Tenant, where.tenant_id),
                (Company, where.company_id),
                (Branch, where.branch_id),
            ]
            own = depth_of_row.get(type(row), 3)
            chain = [
                (m, i)
                for depth, (m, i) in enumerate(levels[:own])
                if depth >= top and i is not None
            ]
            for model, ident in chain:
                wanted[model].add(ident)
            chains.append(chain)
        labels_of = {model: repo.labels_by_id(model, sorted(ids)) for model, ids in wanted.items()}
        return [[labels_of[m][i] for m, i in chain] for chain in chains]

    def _nodes(
        self, repo: ScopedRepository, rows: Sequence[OrgRow], parent_org_id: str | None = None
    ) -> list[OrgNode]:
        """Nodes with counts; ``parent_org_id`` saves a query when all rows share a parent."""
        if not rows:
            return []
        model = type(rows[0])
        ids = [r.id for r in rows]
        level_col = {Tenant: Agent.tenant_id, Company: Agent.company_id, Branch: Agent.branch_id}[
            model
        ]
        for row in rows:  # the counts read every agent under the nodes, whoever asks
            require_in_scope(repo.principal, row)
        counts = self._status_counts(repo, level_col, ids)
        if model is Branch:  # a branch's children are its agents, counted by status already
            children = {owner: sum(by_status.values()) for owner, by_status in counts.items()}
        else:
            statement = _COMPANIES_OF if model is Tenant else _BRANCHES_OF
            children = dict(repo.session.execute(statement, {"ids": ids}).all())
        if parent_org_id is not None:
            parents = dict.fromkeys((row.id for row in rows), parent_org_id)
        else:
            parents = self._parent_org_ids(repo, rows)
        return [
            self._node(
                row,
                None
                if self._is_scope_root(repo.principal, Ancestry.of(row), kind_of(row))
                else parents.get(row.id),
                children.get(row.id, 0),
                StatusCounts(**counts.get(row.id, {})),
            )
            for row in rows
        ]

    def _status_counts(
        self, repo: ScopedRepository, level_col, ids: list[int]
    ) -> dict[int, dict[str, int]]:
        """Agents by status under each node, all of whose agents the caller may see.

        Tenants and companies have an index on ``(node, revoked_at, last_seen)``: one range
        count per status reads only index entries. A branch's agents are few and read from
        the table anyway, so grouping by the status CASE is cheaper there. The statements
        are built once (building one cost three times what running it does).
        """
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        params = {"ids": ids, **status_cutoffs(utcnow(), self._policy)}
        for owner, state, n in repo.session.execute(_count_statement(level_col.key), params):
            counts[owner][state] = n
        return counts

    @staticmethod
    def _parent_org_ids(repo: ScopedRepository, rows: Sequence[OrgRow]) -> dict[int, str]:
        if isinstance(rows[0], Company):
            by_id = repo.org_ids_by_id(Tenant, [r.tenant_id for r in rows])
            return {r.id: by_id[r.tenant_id] for r in rows}
        if isinstance(rows[0], Branch):
            by_id = repo.org_ids_by_id(Company, [r.company_id for r in rows])
            return {r.id: by_id[r.company_id] for r in rows}
        return {}

    @staticmethod
    def _node(row: OrgRow, parent: str | None, children: int, counts: StatusCounts) -> OrgNode:
        created: datetime = row.created_at
        return OrgNode(kind_of(row), row.org_id, row.name, parent, children, counts, created)
