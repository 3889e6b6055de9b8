"""The OpenAPI 3.1 document of the whole server, built from the route declarations.

Console routes are described by the handlers' own ``operations`` (the declarations they parse
with); agent routes by ``agent_routes``. Answers are the service dataclasses, turned into JSON
Schema the way ``wire.encode`` writes them.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from ingest_server.console_api.declarations import Instant, Operation

ERROR_TEXT = {
    400: "Bad input; `details` names the field",
    401: "Not signed in, token invalid or expired (`unauthorized`), or session ended"
    " (`session_ended`)",
    403: "A viewer tried to write, or a non-superadmin tried a superadmin operation",
    404: "Unknown, or outside the caller's scope (the same answer for both)",
    405: "Method not allowed",
    409: "Duplicate name or conflicting state",
    413: "Body too large",
    415: "Body is not JSON",
    429: "Throttled; see Retry-After",
    503: "Database unavailable or server busy; see Retry-After",
}
ALWAYS = (400, 503)
PARAM = re.compile(r"{(\w+)}")
PATH_SCHEMAS = {int: {"type": "integer", "minimum": 0, "maximum": 9_999_999_999}}


def build_document(routes: list[tuple[str, dict[str, Operation], dict[str, type], str]]) -> dict:
    """``routes``: (full OpenAPI path, operations by method, path parameter types, tag)."""
    schemas = _Schemas()
    paths: dict[str, dict] = {}
    for path, operations, path_types, tag in routes:
        item = paths.setdefault(path, {})
        for method, operation in operations.items():
            item[method] = _operation(path, method, operation, path_types, tag, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Argos server API",
            "version": "1",
            "description": "Agent API (enrollment, telemetry), health and metrics, and the"
            " console API for people. Errors are `{error, message, details}`.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **schemas.components},
            "securitySchemes": {
                "person": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "agent": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "details"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "array"},
    },
}


def _operation(
    path: str,
    method: str,
    op: Operation,
    path_types: dict[str, type],
    tag: str,
    schemas: _Schemas,
) -> dict:
    names = PARAM.findall(path)
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": PATH_SCHEMAS.get(
                path_types.get(name, str), {"type": "string", "minLength": 1}
            ),
        }
        for name in names
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query, schemas)
    if op.etag:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
            }
        )
    success: dict[str, Any] = {"description": op.summary}
    if op.answer is not None:
        success["content"] = {op.media_type: {"schema": schemas.of(op.answer)}}
    if op.etag:
        success["headers"] = {"ETag": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(op.status if op.answer is not None else 204): success}
    for status in op.also_status:
        responses[str(status)] = success
    if op.etag:
        responses["304"] = {"description": "Not modified since the ETag given in If-None-Match"}
    codes = set(op.errors) | set(ALWAYS)
    if names:
        codes.add(404)
    if not op.public:
        codes.add(401)
    if op.body is not None:
        codes |= {413, 415}
    for code in sorted(codes):
        responses[str(code)] = {
            "description": ERROR_TEXT[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    result: dict[str, Any] = {
        "operationId": _operation_id(method, path),
        "summary": op.summary,
        "tags": [tag],
        "parameters": parameters,
        "responses": responses,
        "security": [] if op.public else [{"agent" if op.agent else "person": []}],
    }
    if op.description:
        result["description"] = op.description
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.body(op.body)}},
        }
    return result


def _query_parameters(cls: type, schemas: _Schemas) -> list[dict]:
    hints = typing.get_type_hints(cls)
    parameters = []
    for f in dataclasses.fields(cls):
        schema = schemas.field(hints[f.name], f)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        parameter = {"name": f.name, "in": "query", "required": required, "schema": schema}
        if get_origin(hints[f.name]) is list:
            parameter |= {"style": "form", "explode": True}
        if f.metadata.get("description"):
            parameter["description"] = f.metadata["description"]
        parameters.append(parameter)
    return parameters


def _operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[/{}\-.]+", path.removeprefix("/api/v1")) if w]
    return method + "".join(w[:1].upper() + w[1:] for w in words)


class _Schemas:
    """JSON Schemas of Python types; dataclasses become named components."""

    def __init__(self) -> None:
        self.components: dict[str, dict] = {}

    def of(self, tp: Any) -> dict:
        if tp is Instant:
            return {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": 253_402_300_799},
                    {"type": "string", "format": "date-time"},
                ]
            }
        origin = get_origin(tp)
        if origin is Union or origin is types.UnionType:
            members = [self.of(m) for m in get_args(tp) if m is not type(None)]
            nullable = type(None) in get_args(tp)
            return {"anyOf": members + ([{"type": "null"}] if nullable else [])}
        if origin is Literal:
            return {"type": "string", "enum": list(get_args(tp))}
        if origin is list or tp is list:
            args = get_args(tp)
            return {"type": "array", "items": self.of(args[0]) if args else {}}
        if origin is dict or tp is dict:
            args = get_args(tp)
            return {"type": "object", "additionalProperties": self.of(args[1]) if args else {}}
        if dataclasses.is_dataclass(origin or tp):
            return {"$ref": f"#/components/schemas/{self._component(tp)}"}
        if isinstance(tp, type) and issubclass(tp, Enum):
            return {"type": "string", "enum": [m.value for m in tp]}
        simple = {
            str: {"type": "string"},
            int: {"type": "integer"},
            float: {"type": "number"},
            bool: {"type": "boolean"},
            datetime: {"type": "string", "format": "date-time"},
        }
        if tp in simple:
            return dict(simple[tp])
        raise TypeError(f"no JSON Schema for {tp!r}")

    def field(self, tp: Any, f: dataclasses.Field) -> dict:
        schema = self.of(tp)
        meta = f.metadata
        target = schema
        if "anyOf" in schema and len(schema["anyOf"]) == 2 and tp is not Instant:
            target = schema["anyOf"][0]
        if meta.get("minimum") is not None:
            target["minimum"] = meta["minimum"]
        if meta.get("maximum") is not None:
            target["maximum"] = meta["maximum"]
        if meta.get("max_length") is not None:
            target["maxLength"] = meta["max_length"]
        if meta.get("description"):
            schema["description"] = meta["description"]
        if f.default is not dataclasses.MISSING and not isinstance(f.default, datetime):
            default = f.default.value if isinstance(f.default, Enum) else f.default
            schema["default"] = default
        return schema

    def body(self, cls: type) -> dict:
        """A request body: an object whose required fields are those without a default."""
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        return {
            "type": "object",
            "properties": {f.name: self.field(hints[f.name], f) for f in fields},
            "required": [
                f.name
                for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ],
        }

    def _component(self, tp: Any) -> str:
        cls = get_origin(tp) or tp
        args = get_args(tp)
        name = cls.__name__ + "".join(f"_{getattr(a, '__name__', str(a))}" for a in args)
        if name in self.components:
            return name
        self.components[name] = {}  # reserve: nested references to itself resolve
        hints = typing.get_type_hints(cls)
        bindings = dict(zip(getattr(cls, "__parameters__", ()), args, strict=False))
        properties = {}
        for f in dataclasses.fields(cls):
            field_type = hints[f.name]
            if isinstance(field_type, typing.TypeVar):
                field_type = bindings[field_type]
            elif get_origin(field_type) is list and isinstance(
                get_args(field_type)[0], typing.TypeVar
            ):
                field_type = list[bindings[get_args(field_type)[0]]]  # type: ignore[misc]
            properties[f.name] = self.of(field_type)
        self.components[name] = {
            "type": "object",
            "properties": properties,
            "required": [f.name for f in dataclasses.fields(cls)],
        }
        return name
