"""The organisation tree: tenants, companies, branches, choices and search."""

from __future__ import annotations

from dataclasses import dataclass, field

from argos_core.services.dto import OrgChoice, OrgKind, OrgNode, Page, SearchHit
from argos_core.services.org_service import MAX_PAGE
from argos_core.status import AgentStatus
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import Operation, bounded

READ_ERRORS = (400, 401, 404)
WRITE_ERRORS = (400, 401, 403, 404, 409)


@dataclass(frozen=True)
class PageQuery:
    offset: int = bounded(0, minimum=0, maximum=2**31 - 1)
    limit: int = bounded(100, minimum=1, maximum=MAX_PAGE)


@dataclass(frozen=True)
class ChoicesQuery:
    kinds: list[OrgKind] = field(default_factory=lambda: ["tenant", "company", "branch"])
    text: str = bounded("", max_length=200)
    limit: int = bounded(MAX_PAGE, minimum=1, maximum=MAX_PAGE)


@dataclass(frozen=True)
class SearchQuery:
    q: str = bounded("", max_length=200, description="name, org id or hostname to look for")
    status: AgentStatus | None = None
    limit: int = bounded(200, minimum=1, maximum=MAX_PAGE)


@dataclass(frozen=True)
class NameBody:
    name: str = bounded(max_length=1000)


@dataclass(frozen=True)
class DeleteQuery:
    force: bool = False


class RootsHandler(ConsoleHandler):
    path = "/orgs"
    tag = "organisation"
    operations = {
        "get": Operation(
            "The roots the caller may see (all tenants, or the caller's scope node)",
            answer=Page[OrgNode],
            query=PageQuery,
            etag=True,
            errors=READ_ERRORS,
        )
    }

    async def get(self) -> None:
        page = self.query()
        await self.reply(self.api.ctx.services.orgs.list_children, None, page.offset, page.limit)


class NodeHandler(ConsoleHandler):
    path = "/orgs/{org_id}"
    tag = "organisation"
    operations = {
        "get": Operation(
            "A node with its status counts", answer=OrgNode, etag=True, errors=READ_ERRORS
        ),
        "patch": Operation("Rename a node", answer=OrgNode, body=NameBody, errors=WRITE_ERRORS),
        "delete": Operation(
            "Delete a node (with what it holds only when force=true)",
            query=DeleteQuery,
            errors=WRITE_ERRORS,
        ),
    }

    async def get(self, org_id: str) -> None:
        await self.reply(self.api.ctx.services.orgs.get_node, org_id)

    async def patch(self, org_id: str) -> None:
        await self.reply(self.api.ctx.services.orgs.rename, org_id, self.body().name)

    async def delete(self, org_id: str) -> None:
        await self.reply(self.api.ctx.services.orgs.delete, org_id, force=self.query().force)


class ChildrenHandler(ConsoleHandler):
    path = "/orgs/{org_id}/children"
    tag = "organisation"
    operations = {
        "get": Operation(
            "A tenant's companies or a company's branches",
            answer=Page[OrgNode],
            query=PageQuery,
            etag=True,
            errors=READ_ERRORS,
        )
    }

    async def get(self, org_id: str) -> None:
        page = self.query()
        await self.reply(self.api.ctx.services.orgs.list_children, org_id, page.offset, page.limit)


class TenantsHandler(ConsoleHandler):
    path = "/tenants"
    tag = "organisation"
    operations = {
        "post": Operation(
            "Create a tenant (superadmins)",
            answer=OrgNode,
            status=201,
            body=NameBody,
            errors=WRITE_ERRORS,
        )
    }

    async def post(self) -> None:
        await self.reply(self.api.ctx.services.orgs.create_tenant, self.body().name)


class CompaniesHandler(ConsoleHandler):
    path = "/orgs/{org_id}/companies"
    tag = "organisation"
    operations = {
        "post": Operation(
            "Create a company in a tenant",
            answer=OrgNode,
            status=201,
            body=NameBody,
            errors=WRITE_ERRORS,
        )
    }

    async def post(self, org_id: str) -> None:
        await self.reply(self.api.ctx.services.orgs.create_company, org_id, self.body().name)


class BranchesHandler(ConsoleHandler):
    path = "/orgs/{org_id}/branches"
    tag = "organisation"
    operations = {
        "post": Operation(
            "Create a branch in a company",
            answer=OrgNode,
            status=201,
            body=NameBody,
            errors=WRITE_ERRORS,
        )
    }

    async def post(self, org_id: str) -> None:
        await self.reply(self.api.ctx.services.orgs.create_branch, org_id, self.body().name)


class ChoicesHandler(ConsoleHandler):
    path = "/org-choices"
    tag = "organisation"
    operations = {
        "get": Operation(
            "Nodes in scope to pick from, with their ancestors' names",
            answer=list[OrgChoice],
            query=ChoicesQuery,
            errors=READ_ERRORS,
        )
    }

    async def get(self) -> None:
        q = self.query()
        await self.reply(self.api.ctx.services.orgs.list_choices, q.kinds, q.text, q.limit)


class SearchHandler(ConsoleHandler):
    path = "/search"
    tag = "organisation"
    operations = {
        "get": Operation(
            "Nodes whose name or org id matches and agents whose hostname matches, in scope",
            answer=list[SearchHit],
            query=SearchQuery,
            etag=True,
            errors=READ_ERRORS,
        )
    }

    async def get(self) -> None:
        q = self.query()
        await self.reply(self.api.ctx.services.orgs.search, q.q, status=q.status, limit=q.limit)


default_handlers = [
    RootsHandler,
    NodeHandler,
    ChildrenHandler,
    TenantsHandler,
    CompaniesHandler,
    BranchesHandler,
    ChoicesHandler,
    SearchHandler,
]
