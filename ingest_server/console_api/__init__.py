"""The console API: people's use cases over HTTP, one module per route group.

Each module lists its handlers in ``default_handlers``; ``console_routes`` turns them into
Tornado rules (and the OpenAPI document) for ``make_app``.
"""

from __future__ import annotations

import re
from typing import Any

from argos_core.access_tokens import AccessTokenSigner
from argos_core.services.session_service import SessionService
from ingest_server.console_api import (
    agent_routes,
    agents,
    alerts,
    audit_log,
    enrollment,
    me,
    node_telemetry,
    orgs,
    sign_in,
    users,
)
from ingest_server.console_api.auth import ConsoleAuthenticator
from ingest_server.console_api.base import API_PREFIX, ConsoleApi, ConsoleHandler
from ingest_server.console_api.declarations import Operation
from ingest_server.console_api.openapi import build_document
from ingest_server.console_api.shared_answers import SharedAnswers
from ingest_server.context import IngestContext

INTEGER_ID = "[0-9]{1,10}"
HANDLERS: list[type[ConsoleHandler]] = [
    *sign_in.default_handlers,
    *me.default_handlers,
    *orgs.default_handlers,
    *agents.default_handlers,
    *node_telemetry.default_handlers,
    *enrollment.default_handlers,
    *users.default_handlers,
    *audit_log.default_handlers,
    *alerts.default_handlers,
]


class OpenApiHandler(ConsoleHandler):
    path = "/openapi.json"
    tag = "operations"
    operations = {"get": Operation("This document (OpenAPI 3.1)", answer=dict, public=True)}

    def initialize(self, api: ConsoleApi, document: dict) -> None:  # type: ignore[override]
        super().initialize(api)
        self.document = document

    async def get(self) -> None:
        self.answer(self.document)


def openapi_document() -> dict:
    routes: list[tuple[str, dict[str, Operation], dict[str, type], str]] = [
        (path, operations, {}, tag) for path, operations, tag in agent_routes.ROUTES
    ]
    routes += [
        (API_PREFIX + h.path, h.operations, h.path_params, h.tag)
        for h in [*HANDLERS, OpenApiHandler]
    ]
    return build_document(routes)


def console_routes(ctx: IngestContext) -> list[tuple[str, type, dict[str, Any]]]:
    signer = AccessTokenSigner(ctx.signer.secret_key, ctx.config.access_token_ttl_s)
    sessions = SessionService(ctx.services.session_factory, ctx.services.users, signer)
    auth = ConsoleAuthenticator(signer, sessions, ctx.executor, ttl_s=ctx.config.principal_ttl_s)
    api = ConsoleApi(ctx, sessions, auth, SharedAnswers(ctx.config.shared_answer_ttl_s))
    rules: list[tuple[str, type, dict[str, Any]]] = [
        (_pattern(h), h, {"api": api}) for h in HANDLERS
    ]
    rules.append(
        (_pattern(OpenApiHandler), OpenApiHandler, {"api": api, "document": openapi_document()})
    )
    return rules


def _pattern(handler: type[ConsoleHandler]) -> str:
    """The route's regex; a malformed integer id matches nothing and gets the JSON 404."""

    def group(match: re.Match) -> str:
        name = match.group(1)
        shape = INTEGER_ID if handler.path_params.get(name) is int else "[^/]+"
        return f"(?P<{name}>{shape})"

    return API_PREFIX + re.sub(r"{(\w+)}", group, handler.path) + "$"
