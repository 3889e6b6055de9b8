"""People: client admins and superadmins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from argos_core.services.dto import Page, UserInfo
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import Operation, bounded

WRITE_ERRORS = (400, 401, 403, 404, 409)


@dataclass(frozen=True)
class UsersQuery:
    offset: int = bounded(0, minimum=0, maximum=2**31 - 1)
    limit: int = bounded(200, minimum=1, maximum=1000)


@dataclass(frozen=True)
class NewUser:
    username: str = bounded(max_length=200)
    password: str = bounded(max_length=1024)
    scope_org_id: str = bounded(max_length=100)
    role: Literal["admin", "viewer"] = "viewer"


@dataclass(frozen=True)
class UserChange:
    role: Literal["admin", "viewer"] | None = None
    scope_org_id: str | None = bounded(None, max_length=100)
    is_active: bool | None = None


@dataclass(frozen=True)
class NewPassword:
    new_password: str = bounded(max_length=1024)


@dataclass(frozen=True)
class NewSuperadmin:
    username: str = bounded(max_length=200)
    password: str = bounded(max_length=1024)


@dataclass(frozen=True)
class SuperadminChange:
    active: bool


class UsersHandler(ConsoleHandler):
    path = "/users"
    tag = "people"
    operations = {
        "get": Operation(
            "Client admins in the caller's scope",
            answer=Page[UserInfo],
            query=UsersQuery,
            errors=(400, 401),
        ),
        "post": Operation(
            "Create a client admin scoped to a node in the caller's scope",
            answer=UserInfo,
            status=201,
            body=NewUser,
            errors=WRITE_ERRORS,
        ),
    }

    async def get(self) -> None:
        q = self.query()
        await self.reply(self.api.ctx.services.users.list_users, q.offset, q.limit)

    async def post(self) -> None:
        b = self.body()
        await self.reply(
            self.api.ctx.services.users.create_user,
            username=b.username,
            password=b.password,
            role=b.role,
            scope_org_id=b.scope_org_id,
        )


class UserHandler(ConsoleHandler):
    path = "/users/{username}"
    tag = "people"
    operations = {
        "patch": Operation(
            "Change a client admin's role, scope or active flag (deactivation ends sessions)",
            answer=UserInfo,
            body=UserChange,
            errors=WRITE_ERRORS,
        ),
        "delete": Operation("Delete a client admin (their sessions end)", errors=WRITE_ERRORS),
    }

    async def patch(self, username: str) -> None:
        b = self.body()
        await self.reply(
            self.api.ctx.services.users.update_user,
            username,
            role=b.role,
            scope_org_id=b.scope_org_id,
            is_active=b.is_active,
        )

    async def delete(self, username: str) -> None:
        await self.reply(self.api.ctx.services.users.delete_user, username)


class ResetPasswordHandler(ConsoleHandler):
    path = "/users/{username}/password"
    tag = "people"
    operations = {
        "post": Operation(
            "Set another user's password (their sessions end); not for oneself",
            body=NewPassword,
            errors=WRITE_ERRORS,
        )
    }

    async def post(self, username: str) -> None:
        reset = self.api.ctx.services.users.reset_password
        await self.reply(reset, username, self.body().new_password)


class SuperadminsHandler(ConsoleHandler):
    path = "/superadmins"
    tag = "people"
    operations = {
        "get": Operation(
            "Superadmins (superadmins only)", answer=list[UserInfo], errors=(401, 403)
        ),
        "post": Operation(
            "Add a superadmin (superadmins only)",
            answer=UserInfo,
            status=201,
            body=NewSuperadmin,
            errors=WRITE_ERRORS,
        ),
    }

    async def get(self) -> None:
        await self.reply(self.api.ctx.services.users.list_superadmins)

    async def post(self) -> None:
        b = self.body()
        await self.reply(self.api.ctx.services.users.add_superadmin, b.username, b.password)


class SuperadminHandler(ConsoleHandler):
    path = "/superadmins/{username}"
    tag = "people"
    operations = {
        "patch": Operation(
            "Activate or deactivate a superadmin (deactivation ends sessions)",
            body=SuperadminChange,
            errors=WRITE_ERRORS,
        )
    }

    async def patch(self, username: str) -> None:
        set_active = self.api.ctx.services.users.set_superadmin_active
        await self.reply(set_active, username, self.body().active)


default_handlers = [
    UsersHandler,
    UserHandler,
    ResetPasswordHandler,
    SuperadminsHandler,
    SuperadminHandler,
]
