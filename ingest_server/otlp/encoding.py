"""OTLP/HTTP bodies: protobuf or JSON, plain, gzip or deflate, in and out.

Decoding uses the official message classes (``opentelemetry-proto``) and protobuf's own
binary and JSON parsers; answers (the export response, or a ``google.rpc.Status`` for an
error) go back in the encoding of the request, as the OTLP/HTTP specification asks.
"""

from __future__ import annotations

import json
import zlib
from enum import Enum

from google.protobuf import json_format
from google.protobuf.internal import api_implementation
from google.protobuf.message import DecodeError, Message
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from tornado.httputil import HTTPHeaders

from ingest_server.bodies import BodyBuffer, parse_json
from ingest_server.errors import ApiError
from ingest_server.otlp.metrics_view import ExportMetricsView

# gRPC status codes carried in ``Status.code`` (informative only for OTLP/HTTP clients).
GRPC_CODES = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    404: 5,  # NOT_FOUND
    405: 12,  # UNIMPLEMENTED
    413: 3,
    415: 3,
    429: 8,  # RESOURCE_EXHAUSTED
    503: 14,  # UNAVAILABLE
}
INTERNAL = 13
# zlib's window bits: 16 + 15 accepts a gzip wrapper only, 15 a zlib (HTTP "deflate") one.
WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def slow_protobuf_note() -> str | None:
    """A warning for the log when protobuf runs in pure Python (chosen with
    ``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python``): parsing an export then costs about
    500 times the CPU of the upb backend that protobuf >= 4.21 uses by default."""
    if api_implementation.Type() != "python":
        return None
    return (
        "protobuf runs in pure Python (PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python): OTLP"
        " exports will cost about 20 times the CPU per sample; unset it to use upb."
    )


class Encoding(Enum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"

    @classmethod
    def of(cls, headers: HTTPHeaders) -> Encoding | None:
        media_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        return next((e for e in cls if e.value == media_type), None)

    def encode(self, message: Message) -> bytes:
        if self is Encoding.PROTOBUF:
            return message.SerializeToString()
        return json_format.MessageToJson(message, indent=None).encode()

    def error(self, error: ApiError) -> bytes:
        """The body of an error answer: a ``Status``. In JSON it also carries the Argos
        error shape (``error``, ``message``, ``details``), so both kinds of client read it."""
        code = GRPC_CODES.get(error.status_code, INTERNAL)
        if self is Encoding.PROTOBUF:
            return Status(code=code, message=error.message).SerializeToString()
        return json.dumps(
            {"code": code, "error": error.code, "message": error.message, "details": []}
        ).encode()


def decode_request(
    headers: HTTPHeaders, body: BodyBuffer
) -> tuple[Encoding, ExportMetricsServiceRequest, Message]:
    """The request message and its ``ExportMetricsView``: ``415`` for another media type or
    encoding, ``413`` when too large (also once decompressed), ``400`` when it does not
    parse."""
    encoding = Encoding.of(headers)
    if encoding is None:
        raise ApiError(415, "Send application/x-protobuf or application/json.")
    data = _decompress(headers, body)
    request = ExportMetricsServiceRequest()
    try:
        if encoding is Encoding.PROTOBUF:
            request.ParseFromString(data)
        else:
            json_format.ParseDict(parse_json(data), request, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, ValueError, RecursionError) as exc:
        kind = "protobuf" if encoding is Encoding.PROTOBUF else "OTLP JSON"
        raise ApiError(
            400, f"The body is not a valid {kind} ExportMetricsServiceRequest: {_reason(exc)}"
        ) from exc
    wire = data if encoding is Encoding.PROTOBUF else request.SerializeToString()
    return encoding, request, ExportMetricsView.FromString(wire)


def _decompress(headers: HTTPHeaders, body: BodyBuffer) -> bytes:
    data = body.content()
    name = headers.get("Content-Encoding", "identity").strip().lower()
    if name == "identity":
        return data
    if name not in WBITS:
        raise ApiError(415, "Only gzip and deflate content encodings are supported.")
    inflater = zlib.decompressobj(wbits=WBITS[name])
    try:
        plain = inflater.decompress(data, body.limit + 1)
    except zlib.error as exc:
        raise ApiError(400, f"The {name} body is corrupt.", code="invalid_encoding") from exc
    if len(plain) > body.limit:
        raise ApiError(413, f"The decompressed body may be at most {body.limit} bytes.")
    if not inflater.eof:
        raise ApiError(400, f"The {name} body is truncated.", code="invalid_encoding")
    return plain


def _reason(exc: Exception) -> str:
    """The parser's own words, bounded (they can quote the offending value)."""
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
