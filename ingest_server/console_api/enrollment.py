"""Enrollment keys of a branch: list, issue, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argos_core.services.dto import EnrollmentKeyInfo, IssuedKey
from argos_core.services.enrollment_service import MAX_KEY_LIFETIME, NOTE_MAX
from ingest_server.console_api.base import ConsoleHandler
from ingest_server.console_api.declarations import Operation, bounded

DEFAULT_EXPIRY_S = 7 * 86400


@dataclass(frozen=True)
class IssueKeyBody:
    expires_in: int | None = bounded(
        DEFAULT_EXPIRY_S,
        minimum=1,
        maximum=MAX_KEY_LIFETIME.total_seconds(),
        description="seconds until the key expires; null: never",
    )
    note: str = bounded("", max_length=NOTE_MAX)


class BranchKeysHandler(ConsoleHandler):
    path = "/orgs/{org_id}/enrollment-keys"
    tag = "enrollment"
    operations = {
        "get": Operation(
            "A branch's enrollment keys (never their secrets)",
            answer=list[EnrollmentKeyInfo],
            errors=(400, 401, 404),
        ),
        "post": Operation(
            "Issue a key for a branch; its secret is in this answer only",
            answer=IssuedKey,
            status=201,
            body=IssueKeyBody,
            errors=(400, 401, 403, 404),
        ),
    }

    async def get(self, org_id: str) -> None:
        await self.reply(self.api.ctx.services.enrollment.list_keys, org_id)

    async def post(self, org_id: str) -> None:
        body = self.body()
        expires_in = timedelta(seconds=body.expires_in) if body.expires_in is not None else None
        issue = self.api.ctx.services.enrollment.issue_key
        await self.reply(issue, org_id, expires_in=expires_in, note=body.note)


class RevokeKeyHandler(ConsoleHandler):
    path = "/enrollment-keys/{key_id}/revoke"
    path_params = {"key_id": int}
    tag = "enrollment"
    operations = {"post": Operation("Revoke an enrollment key", errors=(400, 401, 403, 404))}

    async def post(self, key_id: str) -> None:
        await self.reply(self.api.ctx.services.enrollment.revoke_key, int(key_id))


default_handlers = [BranchKeysHandler, RevokeKeyHandler]
