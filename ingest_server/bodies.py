"""Request bodies: bounded buffering, gzip, JSON. Shared by every POST endpoint."""

from __future__ import annotations

import json
import zlib
from typing import Any

from tornado.httputil import HTTPHeaders

from ingest_server.errors import ApiError


class BodyBuffer:
    """Keeps at most ``limit`` bytes; a larger body is counted and dropped, not held, so the
    client still gets a proper ``413`` on a connection that stays usable."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received = 0
        self._chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received <= self.limit:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    def content(self) -> bytes:
        if self.received > self.limit:
            raise ApiError(413, f"The body may be at most {self.limit} bytes.")
        return b"".join(self._chunks)


def decode_json(headers: HTTPHeaders, body: BodyBuffer) -> Any:
    """The JSON document in the body: ``415`` unless JSON, ``413`` if too large, else ``400``."""
    media_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "Send the body as application/json.")
    data = body.content()
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "gzip":
        data = _gunzip(data, body.limit)
    elif encoding != "identity":
        raise ApiError(415, "Only gzip content encoding is supported.")
    try:
        # ``json.loads(data, parse_constant=...)`` would build a new decoder per call.
        return _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "The body is not valid JSON.", code="invalid_json") from exc


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, "The gzip body is corrupt.", code="invalid_encoding") from exc
    if len(plain) > limit:
        raise ApiError(413, f"The decompressed body may be at most {limit} bytes.")
    if not inflater.eof:
        raise ApiError(400, "The gzip body is truncated.", code="invalid_encoding")
    return plain


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
