"""Signing in and out: login, refresh-token rotation, logout."""

from __future__ import annotations

from dataclasses import dataclass

from argos_core.services.dto import SignedIn
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import Operation, bounded


@dataclass(frozen=True)
class LoginBody:
    username: str = bounded(max_length=200)
    password: str = bounded(max_length=1024)


@dataclass(frozen=True)
class RefreshBody:
    refresh_token: str = bounded(max_length=200)


class LoginHandler(ConsoleHandler):
    path = "/auth/login"
    tag = "sessions"
    operations = {
        "post": Operation(
            "Sign in: an access token (at most 15 minutes) and a refresh token",
            answer=SignedIn,
            body=LoginBody,
            public=True,
            errors=(400, 401),
            description="Unknown user, wrong password and locked account get the same 401.",
        )
    }

    async def post(self) -> None:
        body = self.body()
        login = self.api.sessions.login
        self.answer(await self.run(login, body.username, body.password, source=self.source))


class RefreshHandler(ConsoleHandler):
    path = "/auth/refresh"
    tag = "sessions"
    operations = {
        "post": Operation(
            "Trade the refresh token for a new pair (the presented one is spent)",
            answer=SignedIn,
            body=RefreshBody,
            public=True,
            errors=(400, 401),
            description="Presenting a spent refresh token ends the whole session.",
        )
    }

    async def post(self) -> None:
        body = self.body()
        refresh = self.api.sessions.refresh
        self.answer(await self.run(refresh, body.refresh_token, source=self.source))


class LogoutHandler(ConsoleHandler):
    path = "/auth/logout"
    tag = "sessions"
    operations = {"post": Operation("End the current session", errors=(401,))}

    async def post(self) -> None:
        self.api.auth.forget(self.session_id)
        await self.reply(self.ctx.services.own_sessions.end_session, self.session_id)


default_handlers = [LoginHandler, RefreshHandler, LogoutHandler]
