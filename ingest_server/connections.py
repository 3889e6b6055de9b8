"""What one connection may cost the server: time and count limits, and the hard body cap.

* A client has ``idle_timeout_s`` to send a request's complete headers, counted from the
  moment it connects or its previous answer was sent (the whole header read is bounded: an
  idle keep-alive connection and one that dribbles its headers byte by byte are closed
  alike), and ``body_timeout_s`` to send the body (``connection_deadlines``: one sweep, not
  Tornado's two timers per request).
* At most ``max_connections`` are open per worker process; one more is answered a ``503``
  with ``Retry-After`` and closed, before anything of it is read.
* A body over ``HARD_BODY_CAP`` gets a JSON ``413`` and the connection is closed (reading
  on would cost the bytes; Tornado's own refusal is a bare ``400``). Bodies under the cap but
  over an endpoint's own limit are counted and dropped by ``bodies.BodyBuffer``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from asyncio import Future
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPConnection, HTTPHeaders, ResponseStartLine
from tornado.iostream import IOStream, StreamClosedError

from ingest_server.connection_deadlines import ConnectionDeadlines, DeadlineDelegate
from ingest_server.context import HARD_BODY_CAP, IngestConfig
from ingest_server.errors import ApiError, error_body

log = logging.getLogger("argos.ingest")
# Tornado's own check would refuse first, with a bare 400, before ours could answer.
UNCHECKED = 1 << 62
REFUSAL_LOG_INTERVAL_S = 60.0


def http_server(app: Any, config: IngestConfig, ssl_options: Any = None) -> HTTPServer:
    return CappedHTTPServer(
        app,
        ssl_options=ssl_options,
        max_connections=config.max_connections,
        deadlines=ConnectionDeadlines(config.idle_timeout_s, config.body_timeout_s),
        max_body_size=UNCHECKED,
    )


class CappedHTTPServer(HTTPServer):
    """Tornado's HTTP server with a cap on the connections it holds open at once and
    deadlines for clients to send their requests."""

    def initialize(
        self, *args: Any, max_connections: int, deadlines: ConnectionDeadlines, **kwargs: Any
    ) -> None:
        super().initialize(*args, **kwargs)
        self.conn_params.header_timeout = None  # Tornado's default is an hour, per request
        self.deadlines = deadlines
        self.max_connections = max_connections
        self.open_connections = 0
        self.refused_connections = 0
        self._last_refusal_log = float("-inf")

    def handle_stream(self, stream: IOStream, address: tuple) -> None:
        if self.open_connections >= self.max_connections:
            self._refuse(stream)
            return
        self.open_connections += 1
        self.deadlines.start()
        super().handle_stream(stream, address)

    def start_request(self, server_conn: object, request_conn: HTTPConnection) -> Any:
        """Called as the server starts waiting for a request's headers."""
        self.deadlines.waiting_for_headers(server_conn)
        delegate = super().start_request(server_conn, request_conn)
        return DeadlineDelegate(delegate, self.deadlines, server_conn)

    def on_close(self, server_conn: object) -> None:
        self.open_connections -= 1
        self.deadlines.answering(server_conn)
        super().on_close(server_conn)

    async def close_all_connections(self) -> None:
        await super().close_all_connections()
        self.deadlines.stop()

    def _refuse(self, stream: IOStream) -> None:
        self.refused_connections += 1
        now = time.monotonic()
        if now - self._last_refusal_log >= REFUSAL_LOG_INTERVAL_S:
            self._last_refusal_log = now
            log.warning(
                "%d connections open, the most this worker holds: refusing new ones"
                " (%d refused so far)",
                self.open_connections,
                self.refused_connections,
            )
        error = ApiError(
            503, "The server has too many open connections; retry later.", retry_after=1
        )
        with contextlib.suppress(StreamClosedError):
            stream.write(_response(error)).add_done_callback(lambda sent: _close(stream, sent))


def refuse_oversized_body(connection: HTTPConnection) -> None:
    """Answer a JSON ``413`` and close the connection once it is sent (the rest of the
    body is never read)."""
    error = ApiError(413, f"The body may be at most {HARD_BODY_CAP} bytes.")
    body = error_body(error)
    headers = HTTPHeaders(
        {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
    )
    try:
        connection.write_headers(ResponseStartLine("HTTP/1.1", 413, "Payload Too Large"), headers)
        connection.write(body)
        connection.finish()  # before the body was read: Tornado closes once this is sent
    except StreamClosedError:
        pass


def _close(stream: IOStream, sent: Future) -> None:
    sent.exception()  # retrieved: a client gone already is no news
    stream.close()


def _response(error: ApiError) -> bytes:
    body = error_body(error)
    head = (
        f"HTTP/1.1 {error.status_code} Service Unavailable\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Retry-After: {error.retry_after}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body
