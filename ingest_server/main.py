"""``argos-ingest``: bind, optionally fork N workers sharing the sockets, serve until SIGTERM.

On SIGTERM (or Ctrl+C) each worker stops accepting connections, lets the writer commit what
it already accepted, answers the waiting requests and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import timedelta

from argos_core.bootstrap import bootstrap
from argos_core.cli.durations import parse_duration
from argos_core.db import make_engine
from argos_core.errors import ArgosError, ValidationError
from argos_core.housekeeping import (
    DEFAULT_RAW_RETENTION,
    DEFAULT_ROLLUP_RETENTION,
    DEFAULT_SLEEP_COEF,
    MAX_SLEEP_COEF,
    Retention,
)
from argos_core.migrate import upgrade
from argos_core.settings import SECRET_KEY_ENV, is_sqlite, resolve_database_url, resolve_secret_key
from argos_core.tokens import TokenSigner
from ingest_server.app import IngestRuntime
from ingest_server.connections import http_server
from ingest_server.context import IngestConfig, Limiters
from ingest_server.jobs.alert_senders import SmtpSettings
from ingest_server.listeners import worker_sockets
from ingest_server.metrics import forget_process, share_between_processes
from ingest_server.otlp.encoding import slow_protobuf_note
from ingest_server.tls import server_context

log = logging.getLogger("argos.ingest")
DRAIN_TIMEOUT_S = 10.0
MAX_RESTARTS = 20
ORPHAN_CHECK_S = 1.0
MAX_SHARE_S = 5.0  # shared console answers: well below the console's refresh interval


class StopTimedOut(ArgosError):
    """Stopping waited ``stop_timeout_s`` for the database in vain."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, not a usage dump
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="argos-ingest", description="The Argos telemetry ingestion server.")
    p.add_argument("--database-url", help="default: $ARGOS_DATABASE_URL, else embedded SQLite")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8080)
    p.add_argument(
        "--processes",
        type=_non_negative,
        default=1,
        help="worker processes sharing the port (0 = one per core)",
    )
    p.add_argument(
        "--agent-rate",
        type=float,
        default=IngestConfig.agent_rate,
        help="requests per second allowed per agent (0 = unlimited)",
    )
    p.add_argument("--agent-burst", type=float, default=IngestConfig.agent_burst)
    p.add_argument("--max-pending-samples", type=_positive, default=IngestConfig.max_pending_rows)
    p.add_argument("--flush-delay-ms", type=float, default=IngestConfig.max_delay_s * 1000)
    p.add_argument(
        "--idle-timeout",
        type=_positive_seconds,
        default=IngestConfig.idle_timeout_s,
        metavar="S",
        help="seconds to send a request's headers, from connecting or the last answer",
    )
    p.add_argument(
        "--body-timeout",
        type=_positive_seconds,
        default=IngestConfig.body_timeout_s,
        metavar="S",
        help="seconds a request may take to send its body",
    )
    p.add_argument(
        "--max-connections",
        type=_positive,
        default=IngestConfig.max_connections,
        metavar="N",
        help="open connections per worker process; more are answered 503 and closed",
    )
    p.add_argument(
        "--stop-timeout",
        type=_positive_seconds,
        default=IngestConfig.stop_timeout_s,
        metavar="S",
        help="seconds to commit accepted samples on SIGTERM; a worker whose database stopped"
        " answering exits after this long anyway (exit code 1)",
    )
    p.add_argument(
        "--renotify-after",
        type=_duration,
        default=IngestConfig.alert_renotify_after_s,
        metavar="DURATION",
        help="notify again about open, unacknowledged alerts after this long (e.g. 30m;"
        " 'never'); default 1h",
    )
    p.add_argument(
        "--shared-answers",
        type=_share_seconds,
        default=IngestConfig.shared_answer_ttl_s,
        metavar="S",
        help="seconds an ETag'd console read is shared by callers of the same role and scope"
        f" (0 = not shared; at most {MAX_SHARE_S:g})",
    )
    p.add_argument(
        "--raw-retention",
        type=_retention,
        default=DEFAULT_RAW_RETENTION,
        metavar="DURATION",
        help="housekeeping keeps raw samples this long (e.g. 30d; at least 1d); default 14d",
    )
    p.add_argument(
        "--rollup-retention",
        type=_retention,
        default=DEFAULT_ROLLUP_RETENTION,
        metavar="DURATION",
        help="and the hourly and daily rollups this long (at least the raw retention);"
        " default 730d",
    )
    p.add_argument(
        "--housekeeping-sleep-coef",
        type=_sleep_coef,
        default=DEFAULT_SLEEP_COEF,
        metavar="X",
        help="after each of its transactions housekeeping rests X times as long as it took,"
        f" leaving the database to the ingest (0 = no rest); default {DEFAULT_SLEEP_COEF:g}",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--tls-cert", metavar="FILE", help="PEM certificate chain: serve HTTPS")
    p.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    try:
        config = config_from(args)
    except ValidationError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs webhook URLs: secrets
    note = slow_protobuf_note()
    if note is not None:
        log.warning(note)
    try:
        if args.tls_cert is not None:
            server_context(args.tls_cert, args.tls_key)  # fail now, in one line, if unusable
        SmtpSettings.from_env()  # a malformed ARGOS_SMTP_URL is refused now, in one line
        url, signer = _prepare(args.database_url)
        processes = args.processes or os.cpu_count() or 1
        sockets = worker_sockets(args.port, args.host, processes)
    except (ArgosError, OSError) as exc:
        print(f"argos-ingest: {_sentence(exc)}", file=sys.stderr)
        return 1
    port = sockets[0][0].getsockname()[1]
    backend = "sqlite" if is_sqlite(url) else "mysql"
    print(
        f"argos-ingest: listening on {'https' if args.tls_cert else 'http'}://{args.host}:{port} "
        f"({processes} process{'es' if processes > 1 else ''}, {backend})",
        flush=True,
    )
    limiters = Limiters.of(config)  # before forking: every worker shares them
    if processes == 1:
        return _serve(url, signer, sockets[0], config, limiters)
    return _supervise(url, signer, sockets, config, limiters)


def config_from(args: argparse.Namespace) -> IngestConfig:
    """The server's settings from its command line (``ValidationError`` if they clash)."""
    return IngestConfig(
        agent_rate=args.agent_rate,
        agent_burst=args.agent_burst,
        max_pending_rows=args.max_pending_samples,
        max_delay_s=args.flush_delay_ms / 1000,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        idle_timeout_s=args.idle_timeout,
        body_timeout_s=args.body_timeout,
        max_connections=args.max_connections,
        stop_timeout_s=args.stop_timeout,
        alert_renotify_after_s=args.renotify_after,
        shared_answer_ttl_s=args.shared_answers,
        retention=Retention(args.raw_retention, args.rollup_retention),
        housekeeping_sleep_coef=args.housekeeping_sleep_coef,
    )


def _prepare(flag: str | None) -> tuple[str, TokenSigner]:
    url = resolve_database_url(flag)
    secret = resolve_secret_key(url)
    if not secret:
        raise ArgosError(f"{SECRET_KEY_ENV} must be set to serve a MySQL database.")
    signer = TokenSigner(secret)
    engine = make_engine(url)
    try:
        if is_sqlite(url):
            upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1 FROM agents WHERE 1 = 0")
    except ArgosError:
        raise
    except Exception as exc:
        raise ArgosError(
            "Cannot use the database: it is unreachable or has no Argos schema"
            " (run 'argos-admin db upgrade')."
        ) from exc
    finally:
        engine.dispose()
    return url, signer


def _serve(
    url: str,
    signer: TokenSigner,
    sockets: list[socket.socket],
    config: IngestConfig,
    limiters: Limiters,
    supervisor: int | None = None,
) -> int:
    try:
        asyncio.run(_worker(url, signer, sockets, config, limiters, supervisor))
    except ArgosError as exc:
        print(f"argos-ingest: {_sentence(exc)}", file=sys.stderr)
        return 1
    return 0


async def _worker(
    url: str,
    signer: TokenSigner,
    sockets: list[socket.socket],
    config: IngestConfig,
    limiters: Limiters,
    supervisor: int | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if supervisor is not None:
        _stop_when_orphaned(loop, supervisor, stop)
    try:
        await serve(url, signer, sockets, config, stop, limiters=limiters)
    except StopTimedOut as exc:
        # Threads still wait on the database; leaving through asyncio.run would join them
        # (forever). Nothing they hold was acknowledged: their requests got no answer.
        print(f"argos-ingest: {exc}", file=sys.stderr, flush=True)
        os._exit(1)


def _stop_when_orphaned(
    loop: asyncio.AbstractEventLoop, supervisor: int, stop: asyncio.Event
) -> None:
    """A worker whose supervisor died (killed outright, no SIGTERM to forward) stops the way
    SIGTERM would stop it, instead of serving on alone with nobody to stop or restart it."""

    def check() -> None:
        if os.getppid() != supervisor:
            log.warning("worker %d: the supervisor is gone; stopping", os.getpid())
            stop.set()
        else:
            loop.call_later(ORPHAN_CHECK_S, check)

    loop.call_later(ORPHAN_CHECK_S, check)


async def serve(
    url: str,
    signer: TokenSigner,
    sockets: list[socket.socket],
    config: IngestConfig,
    stop: asyncio.Event,
    runtime_ready: Callable[[IngestRuntime], None] | None = None,
    limiters: Limiters | None = None,
) -> None:
    """Serve on ``sockets`` until ``stop`` is set, then stop accepting, flush and close."""
    services = bootstrap(url, pool_size=8)
    runtime = IngestRuntime(services, signer, config, limiters)
    tls = None
    if config.tls_cert is not None and config.tls_key is not None:
        tls = server_context(config.tls_cert, config.tls_key)
    server = http_server(runtime.start(), config, tls)
    server.add_sockets(sockets)
    _freeze_startup_objects()
    log.info("worker %d serving", os.getpid())
    if runtime_ready is not None:
        runtime_ready(runtime)
    await stop.wait()
    log.info("worker %d stopping: flushing accepted samples", os.getpid())
    server.stop()
    try:
        await asyncio.wait_for(runtime.stop(), config.stop_timeout_s)
    except TimeoutError:
        raise StopTimedOut(
            f"worker {os.getpid()}: the database did not answer within"
            f" {config.stop_timeout_s:g} s of stopping; exiting without it (requests still"
            " waiting were not acknowledged, their agents send them again)"
        ) from None
    await runtime.wait_idle(DRAIN_TIMEOUT_S)
    await server.close_all_connections()
    services.close()
    log.info("worker %d stopped", os.getpid())


def _freeze_startup_objects() -> None:
    """Keep the garbage collector off everything that exists once the worker is set up.

    The modules, SQLAlchemy metadata and Tornado machinery are a few hundred thousand
    objects that live for the whole process; every full (generation 2) collection walked
    them all, a pause of 70-100 ms that stalled every request in flight (the p99 of small
    requests). Frozen, they are never traversed again, and full collections only visit what
    was allocated while serving.
    """
    gc.collect()
    gc.freeze()


def _supervise(
    url: str,
    signer: TokenSigner,
    sockets: list[list[socket.socket]],
    config: IngestConfig,
    limiters: Limiters,
) -> int:
    """Fork a worker per socket set; forward SIGTERM; restart crashed ones on their sockets."""
    with tempfile.TemporaryDirectory(prefix="argos-ingest-metrics-") as metrics_dir:
        share_between_processes(metrics_dir)
        return _run_workers(url, signer, sockets, config, limiters)


def _run_workers(
    url: str,
    signer: TokenSigner,
    sockets: list[list[socket.socket]],
    config: IngestConfig,
    limiters: Limiters,
) -> int:
    stopping = False
    children: dict[int, int] = {}  # pid: index of its socket set

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)

    supervisor = os.getpid()

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os._exit(_serve(url, signer, sockets[index], config, limiters, supervisor))
        children[pid] = index

    for index in range(len(sockets)):
        spawn(index)
    restarts, failed, unclean = 0, False, False
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index = children.pop(pid, None)
        if index is None:
            continue
        forget_process(pid)
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            continue
        if stopping:
            unclean = True  # e.g. it gave up waiting for a database that stopped answering
            continue
        failed = True
        if restarts < MAX_RESTARTS:
            restarts += 1
            log.warning("worker %d exited with %d; starting another", pid, code)
            spawn(index)
    return 1 if unclean or (failed and not stopping) else 0


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _port(value: str) -> int:
    port = int(value) if value.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"'{value}' is not a port number (0-65535)")
    return port


def _duration(value: str) -> float:
    try:
        length = parse_duration(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return 0.0 if length is None else length.total_seconds()


def _retention(value: str) -> timedelta:
    try:
        length = parse_duration(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if length is None:
        raise argparse.ArgumentTypeError("a retention is a duration such as 14d, not 'never'")
    return length


def _non_negative(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"'{value}' is not a non-negative whole number")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise argparse.ArgumentTypeError(f"'{value}' is not a positive whole number")
    return int(value)


def _number(lo: float, hi: float, what: str, *, above_lo: bool = False) -> Callable[[str], float]:
    """An argparse type: a number from ``lo`` (or above it) to ``hi``."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not ((lo < number) if above_lo else (lo <= number)) or not number <= hi:
            raise argparse.ArgumentTypeError(f"'{value}' is not {what}")
        return number

    return parse


_positive_seconds = _number(0, 86400, "a number of seconds (0-86400]", above_lo=True)
_share_seconds = _number(0, MAX_SHARE_S, f"a number of seconds 0-{MAX_SHARE_S:g}")
_sleep_coef = _number(0, MAX_SLEEP_COEF, f"a number 0-{MAX_SLEEP_COEF:g}")


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text if text.endswith(".") else f"{text}."


if __name__ == "__main__":
    sys.exit(main())
