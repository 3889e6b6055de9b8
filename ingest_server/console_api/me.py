"""The signed-in person: who they are, their sessions, their password."""

from __future__ import annotations

from dataclasses import dataclass

from argos_core.services.dto import Me, SessionInfo
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import Operation, bounded


@dataclass(frozen=True)
class PasswordChange:
    current_password: str = bounded(max_length=1024)
    new_password: str = bounded(max_length=1024)


class MeHandler(ConsoleHandler):
    path = "/me"
    tag = "sessions"
    operations = {"get": Operation("Who the caller is: role and scope", answer=Me, errors=(401,))}

    async def get(self) -> None:
        await self.reply(self.api.sessions.me)


class SessionsHandler(ConsoleHandler):
    path = "/me/sessions"
    tag = "sessions"
    operations = {
        "get": Operation("The caller's live sessions", answer=list[SessionInfo], errors=(401,))
    }

    async def get(self) -> None:
        await self.reply(self.ctx.services.own_sessions.list_sessions, self.session_id)


class SessionHandler(ConsoleHandler):
    path = "/me/sessions/{session_id}"
    tag = "sessions"
    operations = {"delete": Operation("End one of the caller's sessions", errors=(401, 404))}

    async def delete(self, session_id: str) -> None:
        self.api.auth.forget(session_id)
        await self.reply(self.ctx.services.own_sessions.end_session, session_id)


class PasswordHandler(ConsoleHandler):
    path = "/me/password"
    tag = "sessions"
    operations = {
        "post": Operation(
            "Change the caller's password (other sessions end)",
            body=PasswordChange,
            errors=(400, 401),
        )
    }

    async def post(self) -> None:
        body = self.body()
        change = self.api.sessions.change_own_password
        await self.reply(change, self.session_id, body.current_password, body.new_password)


default_handlers = [MeHandler, SessionsHandler, SessionHandler, PasswordHandler]
