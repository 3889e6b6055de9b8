"""How long a client may take to send a request's headers and body, enforced by one sweep.

Tornado's own ``idle_connection_timeout`` and ``body_timeout`` arm and cancel two timers per
request (``gen.with_timeout``: a timer handle, a future chained to another), about 13 % of a
worker's CPU on one-sample telemetry requests. Here each connection carries one deadline
instead, set when the server starts waiting for its headers (at connect and after each
answer), moved when the headers are in (the body's turn) and cleared while the server
answers; a periodic sweep closes the connections whose deadline has passed. A deadline is
enforced within one sweep interval of its moment.
"""

from __future__ import annotations

import time
from typing import Any

from tornado.httputil import HTTPMessageDelegate
from tornado.ioloop import PeriodicCallback

MIN_SWEEP_S = 0.05
MAX_SWEEP_S = 1.0


class ConnectionDeadlines:
    """The connections of one server that are waiting for a client, and until when."""

    def __init__(self, headers_s: float, body_s: float) -> None:
        self.headers_s = headers_s
        self.body_s = body_s
        self.sweep_s = min(MAX_SWEEP_S, max(MIN_SWEEP_S, min(headers_s, body_s) / 4))
        self._deadlines: dict[Any, float] = {}
        self._sweeper: PeriodicCallback | None = None

    def start(self) -> None:
        """Sweep from now on (needs the running event loop)."""
        if self._sweeper is None:
            self._sweeper = PeriodicCallback(self.sweep, self.sweep_s * 1000)
            self._sweeper.start()

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None

    def waiting_for_headers(self, connection: Any) -> None:
        self._deadlines[connection] = time.monotonic() + self.headers_s

    def waiting_for_body(self, connection: Any) -> None:
        self._deadlines[connection] = time.monotonic() + self.body_s

    def answering(self, connection: Any) -> None:
        """The request is complete: the server, not the client, has the next move."""
        self._deadlines.pop(connection, None)

    def sweep(self) -> None:
        now = time.monotonic()
        late = [conn for conn, deadline in self._deadlines.items() if deadline <= now]
        for connection in late:
            del self._deadlines[connection]
            connection.stream.close()  # the pending read ends quietly with the stream


class DeadlineDelegate(HTTPMessageDelegate):
    """Passes one request's events on, moving its connection's deadline as they come."""

    def __init__(
        self, delegate: HTTPMessageDelegate, deadlines: ConnectionDeadlines, connection: Any
    ) -> None:
        self._delegate = delegate
        self._deadlines = deadlines
        self._connection = connection

    def headers_received(self, start_line: Any, headers: Any) -> Any:
        self._deadlines.waiting_for_body(self._connection)
        return self._delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self._delegate.data_received(chunk)

    def finish(self) -> None:
        self._deadlines.answering(self._connection)
        self._delegate.finish()

    def on_connection_close(self) -> None:
        self._deadlines.answering(self._connection)
        self._delegate.on_connection_close()
