"""The console API's base handler: authenticates in ``prepare()``, parses with the route's
declarations, runs the one service call off the event loop, and turns every domain exception
into the JSON error shape (out of scope is a 404 exactly like an unknown id)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from sqlalchemy.exc import IntegrityError
from tornado.web import RequestHandler

from argos_core.errors import (
    AuthenticationFailed,
    Conflict,
    DuplicateName,
    NotFound,
    ScopeViolation,
    SessionEnded,
    ValidationError,
)
from argos_core.scope import Principal
from argos_core.services.session_service import SessionService
from argos_core.services.wire import WireError, to_json
from ingest_server.bodies import BodyBuffer, decode_json
from ingest_server.console_api.auth import ConsoleAuthenticator
from ingest_server.console_api.declarations import Operation, parse_body, parse_query
from ingest_server.console_api.shared_answers import (
    AnswerKey,
    SharedAnswer,
    SharedAnswers,
    answer_key,
)
from ingest_server.context import IngestContext
from ingest_server.errors import ApiError, error_body, shutting_down, translate

API_PREFIX = "/api/v1"
MAX_CONSOLE_BODY = 64 * 1024


@dataclass
class ConsoleApi:
    """What console handlers share, built once by ``console_routes``."""

    ctx: IngestContext
    sessions: SessionService
    auth: ConsoleAuthenticator
    answers: SharedAnswers


class ConsoleHandler(RequestHandler):
    """Subclasses declare ``path`` (OpenAPI style, under /api/v1) and ``operations`` by method."""

    path: ClassVar[str]
    path_params: ClassVar[dict[str, type]] = {}
    operations: ClassVar[dict[str, Operation]]
    tag: ClassVar[str] = "console"

    current_user: Principal | None
    session_id: str

    def initialize(self, api: ConsoleApi) -> None:
        self.api = api
        self.ctx = api.ctx
        self.operation: Operation | None = None
        self.shared: tuple[AnswerKey, int] | None = None  # where this GET's answer is shared

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        self.operation = self.operations.get(self.request.method.lower())
        if self.operation is None:
            raise ApiError(405, "This method is not allowed here.")
        if self.ctx.stopping:
            raise shutting_down(self.ctx.config.busy_retry_after_s)
        if self.operation.etag:
            self.set_header("Cache-Control", "no-cache")
        if not self.operation.public:
            try:
                self.current_user, self.session_id = await self.api.auth.authenticate(
                    self.request.headers.get("Authorization"), self.source
                )
            except Exception as exc:
                raise self._error(exc) from None
            await self._share_answer()

    async def _share_answer(self) -> None:
        """An ETag'd read answers from the shared answers when it can (waiting for the same
        read under way for another caller), or will add to them."""
        answers = self.api.answers
        assert self.operation is not None
        if not (self.operation.etag and self.request.method == "GET" and answers.enabled):
            return
        key = answer_key(self.principal, self.request.path, self.request.query_arguments)
        shared = answers.get(key)
        under_way = answers.under_way(key) if shared is None else None
        if under_way is not None:
            shared = await asyncio.shield(under_way)
        if shared is not None:
            self._finish_shared(shared)
        else:
            self.shared = (key, answers.generation())
            answers.reading(key)

    def _finish_shared(self, answer: SharedAnswer) -> None:
        self.set_header("Etag", answer.etag)
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
        else:
            self.finish(answer.body)

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """A path parameter that is not UTF-8 is a 400 naming the parameter."""
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(WireError(name or "path", "is not valid UTF-8")) from None

    @property
    def source(self) -> str:
        """The caller's address, recorded in the audit log."""
        return self.request.remote_ip or ""

    @property
    def principal(self) -> Principal:
        assert self.current_user is not None
        return self.current_user

    def query(self) -> Any:
        assert self.operation is not None and self.operation.query is not None
        try:
            return parse_query(self.operation.query, self.request.query_arguments)
        except WireError as exc:
            raise self._error(exc) from None

    def body(self) -> Any:
        assert self.operation is not None and self.operation.body is not None
        buffer = BodyBuffer(MAX_CONSOLE_BODY)
        buffer.add(self.request.body)
        try:
            return parse_body(self.operation.body, decode_json(self.request.headers, buffer))
        except WireError as exc:
            raise self._error(exc) from None

    async def run(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One blocking service call in the server's thread pool; errors become ApiErrors."""
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.ctx.executor, partial(call, *args, **kwargs))
        except Exception as exc:
            raise self._error(exc) from None

    async def reply(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call a service with the caller's principal first, and answer its result."""
        self.answer(await self.run(call, self.principal, *args, **kwargs))

    def answer(self, result: Any) -> None:
        assert self.operation is not None
        if self.operation.answer is None:
            self.set_status(204)
            self.clear_header("Content-Type")
            self.finish()
            return
        self.set_status(self.operation.status)
        body = to_json(result)
        if self.shared is None:
            self.finish(body)
            return
        answer = SharedAnswer(body, f'"{hashlib.sha1(body).hexdigest()}"')
        key, generation = self.shared
        self.shared = None
        self.api.answers.put(key, answer, generation)
        self._finish_shared(answer)

    def compute_etag(self) -> str | None:
        if self.operation is None or not self.operation.etag:
            return None
        return super().compute_etag()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if not isinstance(exc, ApiError):
            exc = ApiError(status_code, f"{self._reason}.")
        if exc.retry_after is not None:
            self.set_header("Retry-After", str(exc.retry_after))
        if exc.status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="argos"')
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(error_body(exc))

    def on_finish(self) -> None:
        if self.request.method not in ("GET", "HEAD"):
            self.api.answers.clear()
        elif self.shared is not None:
            self.api.answers.abandon(self.shared[0])  # an error answer: the waiters read
        self.ctx.metrics.count_request("console", self.get_status(), self.request.request_time())

    def _error(self, exc: Exception) -> Exception:
        return console_error(exc, self.ctx) or exc


def console_error(exc: Exception, ctx: IngestContext) -> ApiError | None:
    """The HTTP answer for a domain exception (None: unexpected, a genuine 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, WireError):
        details = [{"field": exc.path, "message": exc.reason}]
        return ApiError(400, f"'{exc.path}' {exc.reason}.", code="bad_request", details=details)
    if isinstance(exc, SessionEnded):
        return ApiError(401, str(exc), code="session_ended")
    if isinstance(exc, AuthenticationFailed):
        return ApiError(401, str(exc), code="unauthorized")
    if isinstance(exc, NotFound):
        return ApiError(404, str(exc), code="not_found")
    if isinstance(exc, ScopeViolation):
        return ApiError(403, str(exc), code="forbidden")
    if isinstance(exc, ValidationError):
        return ApiError(400, str(exc), code="bad_request")
    if isinstance(exc, DuplicateName):
        return ApiError(409, str(exc), code="duplicate")
    if isinstance(exc, Conflict):
        return ApiError(409, str(exc), code="conflict")
    cfg = ctx.config
    error = translate(
        exc, db_retry_after=cfg.db_retry_after_s, busy_retry_after=cfg.busy_retry_after_s
    )
    if error is None and isinstance(exc, IntegrityError):
        return ApiError(409, "The change conflicts with the data.", code="conflict")
    return error
