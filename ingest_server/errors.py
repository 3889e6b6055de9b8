"""The one error type handlers raise; the base handler renders it as PROTOCOL.md's JSON shape."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from tornado.web import HTTPError

from argos_core.data_errors import refused_value
from argos_core.errors import AuthenticationFailed, DatabaseUnavailable, ValidationError
from ingest_server.enroll_throttle import Throttled
from ingest_server.samples import InvalidBatch
from ingest_server.writer import AgentGone, Overloaded

CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(HTTPError):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(status)
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.details = details or []
        self.retry_after = retry_after


def shutting_down(retry_after: int) -> ApiError:
    """What a request gets once the worker is stopping (its threads may be gone)."""
    message = "The server is shutting down; retry later."
    return ApiError(503, message, code="unavailable", retry_after=retry_after)


def error_body(error: ApiError) -> bytes:
    return json.dumps(
        {"error": error.code, "message": error.message, "details": error.details}
    ).encode()


def _refused(column: str) -> ApiError:
    if not column:
        return ApiError(400, "The database refused a value of this request.", code="bad_request")
    reason = "was refused by the database (out of range or not a valid value)"
    details = [{"field": column, "message": reason}]
    return ApiError(400, f"'{column}' {reason}.", code="bad_request", details=details)


def translate(exc: Exception, *, db_retry_after: int, busy_retry_after: int) -> ApiError | None:
    """The HTTP answer for a domain exception, or None if it is not one we expect."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InvalidBatch):
        return ApiError(400, exc.message, code="invalid_batch", details=exc.details)
    if isinstance(exc, ValidationError):
        return ApiError(400, str(exc), code="invalid_body")
    if isinstance(exc, AuthenticationFailed | AgentGone):
        return ApiError(401, str(exc))
    refused = refused_value(exc)
    if refused is not None:  # the sender's mistake, not an outage: retrying cannot help
        return _refused(refused.column)
    if isinstance(exc, DatabaseUnavailable | OperationalError | InterfaceError):
        return ApiError(
            503,
            "The database is unavailable; retry later.",
            code="database_unavailable",
            retry_after=db_retry_after,
        )
    if isinstance(exc, Throttled):
        return ApiError(429, str(exc), retry_after=exc.retry_after)
    if isinstance(exc, Overloaded):
        return ApiError(503, str(exc), code="overloaded", retry_after=busy_retry_after)
    return None
