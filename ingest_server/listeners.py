"""The workers' listening sockets: on Linux one set per worker with ``SO_REUSEPORT``.

Workers that share one listening socket do not share its connections: the first worker to
wake accepts every connection waiting (Tornado accepts until none is left), so a burst of
new keep-alive connections, e.g. a load balancer's pool or many agents starting together,
lands on one worker while the others idle, and stays there. With a socket per worker in
one ``SO_REUSEPORT`` group the kernel spreads new connections over the workers by a hash
of their addresses. The supervisor keeps every worker's sockets open, so connections that
arrive for a worker being restarted wait in its backlog instead of being refused.

A given port is first bound without ``SO_REUSEPORT``, so a port already in use is still an
error instead of a silent share with whatever holds it. Port 0 (any free port) is bound by
the first worker's socket itself: a probe closed before the group binds would leave the
port free for a moment, for another process picking a port to take.
"""

from __future__ import annotations

import socket
import sys

from tornado.netutil import bind_sockets

BACKLOG = 1024


def worker_sockets(port: int, host: str | None, workers: int) -> list[list[socket.socket]]:
    """The listening sockets of each worker (the same list for every worker where the kernel
    cannot spread connections over several)."""
    spread = workers > 1 and kernel_spreads_connections()
    if not spread:
        return [bind_sockets(port, host, backlog=BACKLOG)] * workers
    if port == 0:
        first = bind_sockets(0, host, backlog=BACKLOG, reuse_port=True)
    else:
        for probe in bind_sockets(port, host, backlog=BACKLOG):
            probe.close()
        first = bind_sockets(port, host, backlog=BACKLOG, reuse_port=True)
    bound = first[0].getsockname()[1]
    return [first] + [
        bind_sockets(bound, host, backlog=BACKLOG, reuse_port=True) for _ in range(workers - 1)
    ]


def kernel_spreads_connections() -> bool:
    """Linux balances an ``SO_REUSEPORT`` group; other systems' ``SO_REUSEPORT`` does not."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
