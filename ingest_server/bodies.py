"""Request bodies: bounded buffering, gzip, JSON. Shared by every POST endpoint.

Text in a JSON body must be valid Unicode: a lone surrogate, sent as an escape (``"\\ud800"``)
or as raw bytes that are not UTF-8 (``ED A0 80``), is a ``400`` naming the field, before any
value reaches a service or a database driver (which would fail on it in its own ways).
"""

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
        return parse_json(data)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "The body is not valid JSON.", code="invalid_json") from exc


def parse_json(data: bytes) -> Any:
    """The JSON document in ``data``. ``ValueError`` (or ``RecursionError``) if it does not
    parse; a ``400`` naming the field if it holds text that is not valid Unicode."""
    encoding = json.detect_encoding(data)
    try:
        text = data.decode(encoding)
        suspect = "\\u" in text  # only an escape can still spell a lone surrogate
    except UnicodeDecodeError:
        # Undecodable bytes become lone surrogates, so the walk below names their field.
        text, suspect = data.decode(encoding, "surrogateescape"), True
    # ``json.loads(data, parse_constant=...)`` would build a new decoder per call.
    document = _DECODER.decode(text)
    if suspect:
        path = lone_surrogate_path(document)
        if path is not None:
            reason = "is not valid Unicode (it holds a lone surrogate)"
            details = [{"field": path, "message": reason}]
            raise ApiError(400, f"'{path}' {reason}.", code="bad_request", details=details)
    return document


def lone_surrogate_path(value: Any, path: str = "") -> str | None:
    """Where the first string (value or key) that cannot be UTF-8 sits: ``hostname``,
    ``samples[3].ts``; a bad key is named by its object's path (``body`` at the top)."""
    if isinstance(value, str):
        return None if value.isascii() or _encodes(value) else (path or "body")
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodes(key):
                return path or "body"
            found = lone_surrogate_path(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
