"""JSON encoding of the service dataclasses, shared by the server's console API and its clients.

``encode`` turns a DTO (or a list/dict of them) into JSON-able values: dataclasses become objects
with their field names, ``datetime`` an RFC 3339 string in UTC ending in ``Z``, enums their value.
``to_json`` is the compact JSON text of ``encode(value)``, made by orjson in one call (the
server's answers: a 200-agent page in a thirtieth of the time). ``decode(cls, data)`` is the
inverse, driven by the dataclass type hints, and says which field
is wrong when the data does not fit.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import orjson

T = TypeVar("T")


class WireError(ValueError):
    """Data that does not fit the type it is decoded as; ``path`` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'value'}: {message}")
        self.path = path
        self.reason = message


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return format_datetime(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__}")


TO_JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def to_json(value: Any) -> bytes:
    """The bytes of ``json.dumps(encode(value), separators=(",", ":"))`` for the DTOs, whose
    datetimes are UTC (or naive, taken as UTC); an aware datetime in another zone keeps its
    offset (the same instant, which ``parse_datetime`` reads back alike)."""
    return orjson.dumps(value, option=TO_JSON_OPTIONS)


def format_datetime(value: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; a naive datetime is taken as UTC (as the models store it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset (or ``Z``), as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError("an RFC 3339 timestamp needs an offset (e.g. Z)")
    return parsed.astimezone(UTC)


def decode(cls: type[T] | Any, data: Any) -> T:
    return _decode(cls, data, "")


def _decode(tp: Any, data: Any, path: str) -> Any:
    if tp is Any or tp is object:
        return data
    if tp is None or tp is type(None):
        if data is not None:
            raise WireError(path, "must be null")
        return None
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return _decode_union(tp, data, path)
    if origin is Literal:
        if not any(type(data) is type(a) and data == a for a in get_args(tp)):
            allowed = ", ".join(repr(a) for a in get_args(tp))
            raise WireError(path, f"must be one of {allowed}")
        return data
    if origin is list or tp is list:
        if not isinstance(data, list):
            raise WireError(path, "must be an array")
        item = get_args(tp)[0] if get_args(tp) else Any
        return [_decode(item, d, f"{path}[{i}]") for i, d in enumerate(data)]
    if origin is dict or tp is dict:
        if not isinstance(data, dict):
            raise WireError(path, "must be an object")
        value_type = get_args(tp)[1] if get_args(tp) else Any
        return {k: _decode(value_type, v, _join(path, k)) for k, v in data.items()}
    if dataclasses.is_dataclass(origin or tp):
        return _decode_dataclass(tp, data, path)
    if isinstance(tp, type):
        return _decode_scalar(tp, data, path)
    raise TypeError(f"cannot decode {tp!r}")


def _decode_union(tp: Any, data: Any, path: str) -> Any:
    members = get_args(tp)
    if data is None:
        if type(None) in members:
            return None
        raise WireError(path, "must not be null")
    last: WireError | None = None
    for member in members:
        if member is type(None):
            continue
        try:
            return _decode(member, data, path)
        except WireError as error:
            last = error
    assert last is not None
    raise last


def _decode_scalar(tp: type, data: Any, path: str) -> Any:
    if issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise WireError(path, f"must be one of {allowed}") from None
    if tp is datetime:
        if not isinstance(data, str):
            raise WireError(path, "must be an RFC 3339 timestamp string")
        try:
            return parse_datetime(data)
        except ValueError as error:
            raise WireError(path, str(error)) from None
    if tp is bool:
        if not isinstance(data, bool):
            raise WireError(path, "must be true or false")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise WireError(path, "must be an integer")
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise WireError(path, "must be a number")
        return float(data)
    if tp is str:
        if not isinstance(data, str):
            raise WireError(path, "must be a string")
        return data
    raise TypeError(f"cannot decode {tp.__name__}")


def _decode_dataclass(tp: Any, data: Any, path: str) -> Any:
    cls = get_origin(tp) or tp
    if not isinstance(data, dict):
        raise WireError(path, "must be an object")
    hints = _hints(cls)
    # A bare generic (``Page``) binds nothing: its items are decoded as they come.
    bindings = dict(zip(getattr(cls, "__parameters__", ()), get_args(tp), strict=False))
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise WireError(_join(path, f.name), "is required")
            continue
        field_type = _substitute(hints[f.name], bindings)
        values[f.name] = _decode(field_type, data[f.name], _join(path, f.name))
    return cls(**values)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _substitute(tp: Any, bindings: dict[Any, Any]) -> Any:
    """Replace type variables (``T`` of ``Page[T]``) by what the caller bound them to."""
    if isinstance(tp, TypeVar):
        return bindings.get(tp, Any)
    args = get_args(tp)
    if not args or not bindings:
        return tp
    new_args = tuple(_substitute(a, bindings) for a in args)
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return Union[new_args]  # noqa: UP007 (built from a tuple of members)
    return origin[new_args] if origin is not None else tp


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
