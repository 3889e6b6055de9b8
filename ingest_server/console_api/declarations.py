"""Route declarations: what each operation takes and answers.

Handlers parse their query and body with these declarations, and ``openapi`` builds the
OpenAPI document from the very same objects, so the document cannot drift from the code.
Query parameters and bodies are dataclasses (field names are the wire names; bounds ride in
the fields' metadata); answers are the service dataclasses that ``wire.encode`` writes.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from argos_core.services.wire import WireError, decode, parse_datetime

UNIX_SECONDS_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z
SINCE = "start (included): Unix seconds or RFC 3339 with an offset"
UNTIL = "end (excluded): Unix seconds or RFC 3339 with an offset"


class Instant(datetime):
    """A point in time given as Unix seconds or an RFC 3339 timestamp with an offset."""


@dataclass(frozen=True)
class Operation:
    summary: str
    answer: Any = None  # the answer's type; None means 204 No Content
    status: int = 200
    also_status: tuple[int, ...] = ()  # further success statuses with the same answer
    query: type | None = None
    body: type | None = None
    public: bool = False
    agent: bool = False  # authenticated by an agent token instead of a person's
    media_type: str = "application/json"
    etag: bool = False  # answers carry an ETag; If-None-Match gets 304
    errors: tuple[int, ...] = ()
    description: str = ""


def bounded(
    default: Any = dataclasses.MISSING,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    max_length: int | None = None,
    description: str = "",
) -> Any:
    """A dataclass field with bounds that parsing enforces and the document states."""
    metadata = {
        "minimum": minimum,
        "maximum": maximum,
        "max_length": max_length,
        "description": description,
    }
    return dataclasses.field(default=default, metadata=metadata)


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """A query class's field types, resolved once (every request parses its query)."""
    return typing.get_type_hints(cls)


def parse_query(cls: type, arguments: dict[str, list[bytes]]) -> Any:
    """The query dataclass from the request's query arguments (strings coerced by type)."""
    hints = _type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        raw = arguments.get(f.name)
        if not raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise WireError(f.name, "is required")
            continue
        texts = [_text(f.name, r) for r in raw]
        tp = hints[f.name]
        if get_origin(tp) is list:
            item = get_args(tp)[0]
            values[f.name] = [_coerce(item, t, f.name) for t in texts]
        else:
            values[f.name] = _coerce(tp, texts[-1], f.name)
        check_bounds(f, values[f.name], f.name)
    return cls(**values)


def parse_body(cls: type, document: Any) -> Any:
    """The body dataclass from a decoded JSON document (``bodies.parse_json`` has refused
    text that is not valid Unicode); every bound is checked."""
    value = decode(cls, document)
    for f in dataclasses.fields(cls):
        check_bounds(f, getattr(value, f.name), f.name)
    return value


def check_bounds(f: dataclasses.Field, value: Any, path: str) -> None:
    meta = f.metadata
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if meta.get("minimum") is not None and value < meta["minimum"]:
            raise WireError(path, f"must be at least {meta['minimum']:g}")
        if meta.get("maximum") is not None and value > meta["maximum"]:
            raise WireError(path, f"must be at most {meta['maximum']:g}")
    if isinstance(value, str) and len(value) > (meta.get("max_length") or len(value)):
        raise WireError(path, f"may have at most {meta['max_length']} characters")


def _text(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(name, "is not valid UTF-8") from None


def _coerce(tp: Any, text: str, name: str) -> Any:
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        members = [m for m in get_args(tp) if m is not type(None)]
        return _coerce(members[0], text, name)
    if tp is Instant:
        return _instant(text, name)
    if tp is bool:
        if text.lower() in ("true", "1"):
            return True
        if text.lower() in ("false", "0"):
            return False
        raise WireError(name, "must be true or false")
    if tp is int:
        try:
            return int(text)
        except ValueError:
            raise WireError(name, "must be an integer") from None
    if tp is str:
        return text
    if origin is Literal or (isinstance(tp, type) and issubclass(tp, Enum)):
        try:
            return decode(tp, text)
        except WireError as error:
            raise WireError(name, error.reason) from None
    raise TypeError(f"no query coercion for {tp!r}")


def _instant(text: str, name: str) -> datetime:
    try:
        seconds = float(text)
    except ValueError:
        try:
            return parse_datetime(text)
        except ValueError as error:
            raise WireError(name, f"{error} or Unix seconds") from None
    if not 0 <= seconds <= UNIX_SECONDS_MAX:
        raise WireError(name, "is out of range")
    return datetime.fromtimestamp(seconds, UTC)
