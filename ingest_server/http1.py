"""The ingest server's HTTP/1.1 front end: an asyncio protocol in front of the Tornado app.

Tornado's own HTTP/1.1 server spent about two thirds of the event loop's time on each small
telemetry request in its stream machinery: a coroutine and several futures per request, a
header timeout armed and cancelled, the socket re-registered with epoll for every read and
write. Here each connection is an ``asyncio.Protocol``: bytes arrive in ``data_received``,
requests are framed in place (``Content-Length`` or chunked bodies, pipelining, keep-alive,
``Expect: 100-continue``) and answers go straight to the transport.

What a request means is decided exactly as before. Telemetry goes to
``ingest_server.telemetry`` (which writes its answer with ``write_response``); every other
path goes to the Tornado ``Application`` and its ``RequestHandler``s through Tornado's
``HTTPConnection`` interface, so routing, handlers and error pages are Tornado's.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
    responses,
)

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
READ_HIGH_WATER = 1024 * 1024
IDLE_TIMEOUT_S = 3600.0
IDLE_SWEEP_S = 60.0
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CHUNK_SIZE = re.compile(rb"^[0-9A-Fa-f]{1,16}$")
_CR_OR_LF = re.compile(r"[\r\n]")
_CONTINUE = b"HTTP/1.1 100 (Continue)\r\n\r\n"


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Fields(dict):
    """Request header fields by lower-case name; repeated fields joined with commas."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, name.lower(), default)


class _Context:
    """What Tornado's ``HTTPServerRequest`` reads from ``connection.context``."""

    __slots__ = ("address", "protocol", "remote_ip")

    def __init__(self, peer: Any) -> None:
        self.address = peer
        self.remote_ip = peer[0] if isinstance(peer, tuple) and peer else "0.0.0.0"
        self.protocol = "http"


class HttpFront:
    """Serves ``sockets``: ``telemetry_path`` to ``telemetry``, everything else to ``app``."""

    def __init__(
        self,
        app: HTTPServerConnectionDelegate,
        telemetry: HTTPServerConnectionDelegate,
        telemetry_path: str,
        *,
        max_body_bytes: int,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.telemetry = telemetry
        self.telemetry_path = telemetry_path
        self.max_body_bytes = max_body_bytes
        self.idle_timeout_s = idle_timeout_s
        self.connections: set[_Connection] = set()
        self._servers: list[asyncio.AbstractServer] = []
        self._sweeper: asyncio.Task | None = None

    async def add_sockets(self, sockets: list[Any], backlog: int = 1024) -> None:
        loop = asyncio.get_running_loop()
        for sock in sockets:
            server = await loop.create_server(lambda: _Connection(self), sock=sock, backlog=backlog)
            self._servers.append(server)
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep_idle())

    def stop(self) -> None:
        """Stop accepting connections; open ones keep being served."""
        for server in self._servers:
            server.close()
        self._servers.clear()

    async def close_all_connections(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        for connection in list(self.connections):
            connection.close()
        for _ in range(100):
            if not self.connections:
                break
            await asyncio.sleep(0.01)

    async def _sweep_idle(self) -> None:
        while True:
            await asyncio.sleep(min(IDLE_SWEEP_S, self.idle_timeout_s))
            oldest = time.monotonic() - self.idle_timeout_s
            for connection in list(self.connections):
                if connection.idle_since(oldest):
                    connection.close()


class _Connection(asyncio.Protocol):
    """One client connection: frames requests and runs them one at a time, in order."""

    def __init__(self, front: HttpFront) -> None:
        self.front = front
        self.transport: asyncio.Transport | None = None
        self.context: _Context | None = None
        self.buffer = bytearray()
        self.request: _Request | None = None  # being read or answered
        self.reading_body = False
        self.body_left = 0  # bytes of the body (or of the current chunk) still to read
        self.chunked = False
        self.chunk_state = 0  # 0 size line, 1 data, 2 CRLF after data, 3 trailers
        self.body_total = 0
        self.waiting = False  # a delegate asked us to wait before the next step
        self.paused = False
        self.closed = False
        self.eof = False
        self.last_active = time.monotonic()

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.context = _Context(transport.get_extra_info("peername"))
        self.front.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        self.buffer += data
        self._advance()
        if (
            not self.closed
            and not self.paused
            and len(self.buffer) > READ_HIGH_WATER
            and self.transport is not None
        ):
            self.paused = True
            self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.front.connections.discard(self)
        request, self.request = self.request, None
        if request is not None and not request.finished:
            request.lost()

    def eof_received(self) -> bool | None:
        self.eof = True
        if self.request is None:
            return None  # nothing in flight: close
        return True  # keep the transport open to answer the request being served

    # --- framing ------------------------------------------------------------------------

    def idle_since(self, oldest: float) -> bool:
        return self.request is None and self.last_active < oldest

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def _advance(self) -> None:
        try:
            while not self.closed and not self.waiting:
                if self.reading_body:
                    if not self._read_body():
                        return
                elif self.request is not None:
                    return  # the current answer is not finished yet
                elif not self._read_head():
                    return
        except BadRequest as bad:
            self._refuse(bad.status, bad.message)

    def _read_head(self) -> bool:
        buffer = self.buffer
        while buffer[:2] == b"\r\n":
            del buffer[:2]
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD_BYTES:
                raise BadRequest(431, "The request head is too large.")
            return False
        if end > MAX_HEAD_BYTES:
            raise BadRequest(431, "The request head is too large.")
        head = buffer[:end].decode("latin-1")
        del buffer[: end + 4]
        start, _, rest = head.partition("\r\n")
        parts = start.split(" ")
        if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not parts[1]:
            raise BadRequest(400, "Malformed request line.")
        method, target, version = parts
        if not _TOKEN.match(method):
            raise BadRequest(400, "Malformed request line.")
        fields = Fields()
        if rest:
            for line in rest.split("\r\n"):
                name, colon, value = line.partition(":")
                if not colon or not _TOKEN.match(name):
                    raise BadRequest(400, "Malformed header line.")
                key = name.lower()
                value = value.strip(" \t")
                known = dict.get(fields, key)
                fields[key] = value if known is None else f"{known},{value}"
        self._begin(method, target, version, fields, rest)
        return True

    def _begin(self, method: str, target: str, version: str, fields: Fields, raw: str) -> None:
        connection = fields.get("connection", "").lower()
        if version == "HTTP/1.1":
            keep_alive = "close" not in connection
        else:
            keep_alive = "keep-alive" in connection
        encoding = fields.get("transfer-encoding")
        length = fields.get("content-length")
        if encoding is not None:
            if length is not None or encoding.strip().lower() != "chunked":
                raise BadRequest(400, "Unsupported Transfer-Encoding.")
            self.chunked, self.chunk_state, self.body_left = True, 0, 0
        else:
            self.chunked = False
            if length is None:
                self.body_left = 0
            elif length.isdigit() and length.isascii():
                self.body_left = int(length)
            else:
                raise BadRequest(400, "Malformed Content-Length.")
            if self.body_left > self.front.max_body_bytes:
                raise BadRequest(413, "The body is too large.")
        self.body_total = 0
        request = _Request(self, method, version, keep_alive)
        self.request = request
        self.reading_body = True
        path = target.partition("?")[0]
        if path == self.front.telemetry_path:
            delegate = self.front.telemetry.start_request(self.front, request)
            headers: Any = fields
        else:
            delegate = self.front.app.start_request(self.front, request)
            headers = HTTPHeaders.parse(raw) if raw else HTTPHeaders()
        request.delegate = delegate
        if (self.chunked or self.body_left) and fields.get("expect", "").lower() == (
            "100-continue"
        ):
            self._write(_CONTINUE)
        self._wait_for(
            delegate.headers_received(RequestStartLine(method, target, version), headers)
        )

    def _read_body(self) -> bool:
        """Hand body bytes to the delegate; True once the whole request has been read."""
        request = self.request
        assert request is not None and request.delegate is not None
        buffer = self.buffer
        while True:
            if self.chunked and self.chunk_state != 1:
                if not self._chunk_framing():
                    return False
                if self.chunk_state == 4:  # last chunk and trailers read
                    break
                continue
            if self.body_left == 0:
                if self.chunked:
                    self.chunk_state = 2
                    continue
                break
            if not buffer:
                return False
            take = min(self.body_left, len(buffer))
            chunk = bytes(buffer[:take])
            del buffer[:take]
            self.body_left -= take
            self.body_total += take
            if self.body_total > self.front.max_body_bytes:
                raise BadRequest(413, "The body is too large.")
            if not request.finished:
                self._wait_for(request.delegate.data_received(chunk))
                if self.waiting:
                    return False
        self.reading_body = False
        if request.finished:  # answered before the body was read: nothing more to do
            self._after_response(request)
        else:
            request.delegate.finish()
        return True

    def _chunk_framing(self) -> bool:
        buffer = self.buffer
        if self.chunk_state == 2:  # CRLF after a chunk's data
            if len(buffer) < 2:
                return False
            if buffer[:2] != b"\r\n":
                raise BadRequest(400, "Malformed chunked body.")
            del buffer[:2]
            self.chunk_state = 0
            return True
        end = buffer.find(b"\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD_BYTES:
                raise BadRequest(400, "Malformed chunked body.")
            return False
        line = bytes(buffer[:end])
        del buffer[: end + 2]
        if self.chunk_state == 3:  # trailers, up to an empty line
            if not line:
                self.chunk_state = 4
            return True
        size = line.split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.match(size):
            raise BadRequest(400, "Malformed chunked body.")
        self.body_left = int(size, 16)
        self.chunk_state = 1 if self.body_left else 3
        return True

    def _wait_for(self, result: Awaitable[None] | None) -> None:
        if result is None or not inspect.isawaitable(result):
            return
        future = asyncio.ensure_future(result)
        if future.done():
            future.result()
            return
        self.waiting = True
        future.add_done_callback(self._resume)

    def _resume(self, future: asyncio.Future) -> None:
        self.waiting = False
        if future.cancelled():
            self.close()
            return
        error = future.exception()
        if error is not None:
            log.error("Error while reading a request", exc_info=error)
            self.close()
            return
        self._advance()

    # --- answers ------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def _after_response(self, request: _Request) -> None:
        if request is not self.request or self.reading_body:
            return  # the body is still arriving; it is skipped, then we come back here
        self.request = None
        if not request.keep_alive or self.eof:
            self.close()
            return
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        if self.buffer:
            self._advance()

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request we could not frame, then close (the byte stream is lost). A
        request being served hears of it through ``on_connection_close``."""
        request = self.request
        if request is None or not request.started:
            code = {400: "bad_request", 413: "payload_too_large"}.get(status, "bad_request")
            body = json.dumps({"error": code, "message": message, "details": []}).encode()
            _Request(self, "GET", "HTTP/1.1", False).write_response(status, body)
        self.close()


class _Request(HTTPConnection):
    """One request's answer channel (Tornado's ``HTTPConnection`` interface)."""

    def __init__(self, connection: _Connection, method: str, version: str, keep_alive: bool):
        self.connection = connection
        self.context = connection.context
        self.method = method
        self.version = version
        self.keep_alive = keep_alive
        self.delegate: HTTPMessageDelegate | None = None
        self.started = False
        self.finished = False
        self.length_known = True
        self._close_callback: Callable[[], None] | None = None

    def write_response(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        """The whole answer at once (the telemetry path); then the request is finished."""
        head = [
            f"HTTP/1.1 {status} {responses.get(status, 'Unknown')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        ]
        if extra:
            head.extend(f"{name}: {value}\r\n" for name, value in extra.items())
        head.append(self._connection_field())
        self.started = True
        if self.method == "HEAD":
            body = b""
        self.connection._write("".join(head).encode("latin-1") + b"\r\n" + body)
        self.finish()

    def _connection_field(self) -> str:
        if self.version == "HTTP/1.1":
            return "" if self.keep_alive else "Connection: close\r\n"
        return "Connection: Keep-Alive\r\n" if self.keep_alive else ""

    # --- tornado.httputil.HTTPConnection ------------------------------------------------

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        assert isinstance(start_line, ResponseStartLine)
        code = start_line.code
        bodiless = self.method == "HEAD" or code in (204, 304) or 100 <= code < 200
        if "Content-Length" not in headers and not bodiless:
            self.length_known = False  # the body ends when the connection does
            self.keep_alive = False
        if self.version == "HTTP/1.1" and not self.keep_alive:
            headers["Connection"] = "close"
        elif self.version == "HTTP/1.0" and self.keep_alive:
            headers["Connection"] = "Keep-Alive"
        lines = [f"HTTP/1.1 {code} {start_line.reason}"]
        lines.extend(f"{name}: {value}" for name, value in headers.get_all())
        for line in lines:
            if _CR_OR_LF.search(line):
                raise ValueError(f"Illegal characters (CR or LF) in header: {line!r}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if chunk and self.method != "HEAD":
            data += chunk
        self.started = True
        self.connection._write(data)
        return _done()

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        if self.method != "HEAD":
            self.connection._write(chunk)
        return _done()

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self._close_callback = None
        self.connection._after_response(self)

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        self._close_callback = callback

    def lost(self) -> None:
        """The client went away before the answer was written."""
        callback, self._close_callback = self._close_callback, None
        if self.delegate is not None:
            self.delegate.on_connection_close()
        if callback is not None:
            callback()


def _done() -> asyncio.Future[None]:
    future = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future
